import { startGenerator } from './main.js';

startGenerator().catch((err: unknown) => {
  process.stderr.write(`generator failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
