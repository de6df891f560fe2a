export { startEvaluator } from './main.js';
export * from './sandbox/index.js';
