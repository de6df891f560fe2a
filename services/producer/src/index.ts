export { startProducer } from './main.js';
export { handleRunRequested, type ProducerDeps } from './handle-run-requested.js';
