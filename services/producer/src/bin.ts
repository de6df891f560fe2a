import { startProducer } from './main.js';

startProducer().catch((err: unknown) => {
  process.stderr.write(`producer failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
