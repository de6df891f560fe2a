export { startEvaluator } from './main.js';
export { handleEvaluate, sandboxJobFor, humanEvalResultText, type EvaluatorDeps } from './handle-evaluate.js';
export * from './sandbox/index.js';
