export { startAggregator } from './main.js';
export { finalizeRun, handleFinalize, handleResult, loadResults, type AggregatorDeps } from './handle-result.js';
export { solveReporter } from './solve-reporter.js';
export { echoReporter } from './echo-reporter.js';
export type { Reporter, ReporterTable } from './reporters.js';
