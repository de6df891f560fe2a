import { startAggregator } from './main.js';

startAggregator().catch((err: unknown) => {
  process.stderr.write(`aggregator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
