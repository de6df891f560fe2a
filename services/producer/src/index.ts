export { startProducer } from './main.js';
export { handleRunRequested, type ProducerDeps } from './handle-run-requested.js';
export { makeSolveExpander, solveJobId } from './solve.js';
export { expandEcho } from './echo.js';
