import path from 'node:path';
import { summaryTable } from '@evalfleet/shared/kinds/solve';
import type { Summary } from '@evalfleet/shared/scoring';
import { runKeys } from '@evalfleet/shared/runs';
import type { CliContext } from '../context.js';
import { describeEvent, formatLogLine, LocalFleet, parseScale, sandboxEnv } from '../fleet.js';
import { restartPolicyFrom } from '../supervisor.js';
import { newRunId, submitKind } from './submit.js';
import { bundledDataset, startBundledFakeProvider } from './up.js';

/**
 * The README's main command: the fleet on local defaults with the fake provider, the
 * bundled problem set for two fake models that behave differently, progress, then the
 * per-model summary and where the reports are.
 */
export async function demoCommand(
  ctx: CliContext,
  opts: { samplesPerTask: number; scale: string[] },
  env: Record<string, string | undefined>,
): Promise<number> {
  const provider = await startBundledFakeProvider();
  ctx.err(`fake provider (OpenAI-compatible) at ${provider.url}`);
  const childEnv = {
    ...env,
    ...(await sandboxEnv(env, (l) => ctx.err(l))),
    LOG_LEVEL: env['LOG_LEVEL'] ?? 'warn',
    EVALFLEET_PROVIDER_URLS: [env['EVALFLEET_PROVIDER_URLS'], `fake=${provider.url}`].filter(Boolean).join(','),
  };
  const fleet = new LocalFleet({
    scale: parseScale(opts.scale),
    env: childEnv,
    ports: 'any',
    onLine: (name, line) => process.stderr.write(`${name.padEnd(13)} ${formatLogLine(line)}\n`),
    // Crashes, restarts and give-ups are said out loud, as `up` does.
    onEvent: (e) => describeEvent(e, restartPolicyFrom(childEnv)).forEach((l) => ctx.err(l)),
  });
  fleet.start();
  ctx.err(
    `fleet: ${fleet
      .instances()
      .map((i) => i.name)
      .join(', ')}; store ${ctx.store().describe()}`,
  );
  try {
    const runId = newRunId('demo');
    ctx.err(
      `submitting ${path.basename(bundledDataset())} for fake-good and fake-mixed × ${opts.samplesPerTask} samples`,
    );
    const code = await submitKind(ctx, 'solve', {
      dataset: bundledDataset(),
      models: 'fake-good,fake-mixed',
      samplesPerTask: opts.samplesPerTask,
      runId,
      wait: true,
      quietResult: true,
    });
    if (code !== 0) return code;
    const body = await ctx.store().get(runKeys.report(runId, 'summary.json'));
    const summary = JSON.parse(body.toString('utf8')) as Summary;
    ctx.out('');
    for (const line of summaryTable(summary)) ctx.out(line);
    ctx.out('');
    ctx.out(
      `run ${runId}: reports in ${ctx.store().describe()}/runs/${runId}/ (results.jsonl, summary.json, comparison.json, by-model/…)`,
    );
    ctx.out(`  npx evalfleet report ${runId} --out ./report-${runId}`);
    return 0;
  } finally {
    ctx.err('stopping the fleet');
    await fleet.stop();
    await provider.close();
  }
}
