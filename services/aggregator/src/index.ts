export { startAggregator } from './main.js';
export { handleDeadLettered, handleFinalize, handleResult, type AggregatorDeps } from './handle-result.js';
export { deadLetterToEnvelope } from './dead-letter-feed.js';
