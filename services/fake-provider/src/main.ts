import { readFile } from 'node:fs/promises';
import { loadConfig, usage } from './config.js';
import { startFakeProvider } from './server.js';

const signalNumbers = { SIGINT: 2, SIGTERM: 15 } as const;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    process.exitCode = 2;
    return;
  }
  const datasetText = config.dataset === undefined ? undefined : await readFile(config.dataset, 'utf8');
  const provider = await startFakeProvider({
    port: config.port,
    host: config.host,
    ...(datasetText === undefined ? {} : { datasetText }),
    ...(config.rpm === undefined ? {} : { rpm: config.rpm }),
    ...(config.tpm === undefined ? {} : { tpm: config.tpm }),
    windowMs: config.windowMs,
    tokenCost: config.tokenCost,
    seed: config.seed,
    ...(config.apiKey === undefined ? {} : { apiKey: config.apiKey }),
    retryAfterMs: config.retryAfterMs,
    aliases: config.aliases,
  });
  const line = {
    level: 'info',
    service: 'fake-provider',
    msg: 'listening',
    url: provider.url,
    rpm: config.rpm,
    tpm: config.tpm,
    windowMs: config.windowMs,
    tokenCost: config.tokenCost,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);

  let stopping = false;
  const stop = (signal: keyof typeof signalNumbers): void => {
    if (stopping) process.exit(128 + signalNumbers[signal]); // second signal: do not wait
    stopping = true;
    provider
      .close()
      .then(() => {
        process.stdout.write(
          `${JSON.stringify({ level: 'info', service: 'fake-provider', msg: 'stopped', signal })}\n`,
        );
        process.exitCode = 128 + signalNumbers[signal];
      })
      .catch((err: unknown) => {
        process.stderr.write(`fake provider did not close cleanly: ${String(err)}\n`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`fake provider failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
