import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startFakeProvider, type FakeProvider } from '@evalfleet/fake-provider';
import { repoRoot } from '@evalfleet/shared/service';
import type { CliContext } from '../context.js';
import { formatLogLine, LocalFleet, parseScale, sandboxEnv } from '../fleet.js';

export const bundledDataset = () => path.join(repoRoot(), 'datasets', 'solve-example.jsonl');

/** Starts the fake provider on a free loopback port, answering for the bundled problem set. */
export async function startBundledFakeProvider(): Promise<FakeProvider> {
  return startFakeProvider({ port: 0, host: '127.0.0.1', datasetText: await readFile(bundledDataset(), 'utf8') });
}

/** `evalfleet up`: every service as a child process until Ctrl-C, then a graceful stop. */
export async function upCommand(
  ctx: CliContext,
  opts: { scale: string[]; fakeProvider?: boolean },
  env: Record<string, string | undefined>,
): Promise<number> {
  const childEnv = { ...env };
  let provider: FakeProvider | undefined;
  if (opts.fakeProvider) {
    provider = await startBundledFakeProvider();
    childEnv['EVALFLEET_PROVIDER_URLS'] = [env['EVALFLEET_PROVIDER_URLS'], `fake=${provider.url}`]
      .filter(Boolean)
      .join(',');
    ctx.err(`fake provider at ${provider.url}`);
  }
  Object.assign(childEnv, await sandboxEnv(childEnv, (l) => ctx.err(l)));
  const fleet = new LocalFleet({
    scale: parseScale(opts.scale),
    env: childEnv,
    onLine: (name, line) => process.stderr.write(`${name.padEnd(13)} ${formatLogLine(line)}\n`),
  });
  fleet.start();
  for (const i of fleet.instances()) ctx.err(`started ${i.name} (pid ${i.pid ?? '?'})`);
  ctx.err('fleet running; Ctrl-C stops it gracefully (twice forces)');
  ctx.signals.onForce(() => fleet.kill());
  const sig = await ctx.signals.untilSignal();
  ctx.err(`${sig}: stopping the fleet (services finish their in-flight work)`);
  await fleet.stop();
  await provider?.close();
  return 0;
}
