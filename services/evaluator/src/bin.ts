import { startEvaluator } from './main.js';

startEvaluator().catch((err: unknown) => {
  process.stderr.write(`evaluator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
