import path from 'node:path';
import type { Summary } from '@evalfleet/shared/scoring';
import type { CliContext } from '../context.js';
import { formatLogLine, LocalFleet, parseScale, resolveSandboxImage } from '../fleet.js';
import { summaryTable } from './report.js';
import { planSolve, publishRun, newRunId, type SolveOptions } from './submit.js';
import { bundledDataset, startBundledFakeProvider } from './up.js';
import { solveSpecSchema } from '@evalfleet/shared/solve';
import { datasetId } from '@evalfleet/shared/datasets';

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
  const image = await resolveSandboxImage(env, (l) => ctx.err(l));
  const childEnv = {
    ...env,
    ...(image ? { EVALFLEET_SANDBOX_IMAGE: image } : {}),
    LOG_LEVEL: env['LOG_LEVEL'] ?? 'warn',
    EVALFLEET_PROVIDER_URLS: [env['EVALFLEET_PROVIDER_URLS'], `fake=${provider.url}`].filter(Boolean).join(','),
  };
  const fleet = new LocalFleet({
    scale: parseScale(opts.scale),
    env: childEnv,
    ports: 'any',
    onLine: (name, line) => process.stderr.write(`${name.padEnd(13)} ${formatLogLine(line)}\n`),
  });
  fleet.start();
  ctx.err(
    `fleet: ${fleet
      .instances()
      .map((i) => i.name)
      .join(', ')}; store ${ctx.store().describe()}`,
  );
  try {
    const solve: SolveOptions = {
      dataset: bundledDataset(),
      models: 'fake-good,fake-mixed',
      samplesPerTask: opts.samplesPerTask,
      wait: true,
    };
    const plan = planSolve(ctx, solve);
    ctx.err(
      `submitting ${path.basename(solve.dataset)}: ${plan.problems.length} problems × 2 models × ${opts.samplesPerTask} samples = ${plan.jobs} jobs`,
    );
    const dataset = await ctx.store().putIfAbsent(`datasets/${datasetId(plan.text)}.jsonl`, plan.text);
    const runId = newRunId('demo');
    const spec = solveSpecSchema.parse({
      dataset: dataset.ref,
      models: plan.models,
      samplesPerTask: opts.samplesPerTask,
    });
    const code = await publishRun(
      ctx,
      runId,
      { kind: 'solve', spec, submittedBy: 'evalfleet demo' },
      { wait: true, json: true, quietResult: true },
    );
    if (code !== 0) return code;
    const body = await ctx.store().get(`runs/${runId}/summary.json`);
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
