import { startMutator } from './main.js';

startMutator().catch((err: unknown) => {
  process.stderr.write(`mutator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
