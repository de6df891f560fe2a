import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finalizeRun, runKeys } from '@evalfleet/shared/runs';
import type { CliContext } from '../context.js';
import { readCompleted, readRun } from './runs.js';

/** `evalfleet report RUN`: the summary table and where every report file is. */
export async function reportCommand(
  ctx: CliContext,
  runId: string,
  opts: { json?: boolean; out?: string; rebuild?: boolean },
): Promise<number> {
  const store = ctx.store();
  const registry = await ctx.registry();
  if (opts.rebuild) {
    await finalizeRun(runId, { registry, bus: await ctx.bus(), store, logger: ctx.logger }, { force: true });
  }
  const completed = await readCompleted(ctx, runId);
  if (!completed) {
    ctx.err(
      `run ${runId} has not completed (evalfleet status ${runId}); --rebuild writes reports from the results stored so far`,
    );
    return 2;
  }
  const summaryBody = await store.getOptional(runKeys.report(runId, 'summary.json'));
  if (opts.json) {
    ctx.out(summaryBody ? summaryBody.toString('utf8') : JSON.stringify(completed, null, 2));
  } else if (summaryBody) {
    const summary: unknown = JSON.parse(summaryBody.toString('utf8'));
    const record = await readRun(ctx, runId);
    const kind = record && registry.has(record.kind) ? registry.kind(record.kind) : undefined;
    const lines = kind?.cli?.summaryLines?.(summary) ?? [JSON.stringify(summary, null, 2)];
    for (const line of lines) ctx.out(line);
  }
  if (opts.out) {
    for (const [name, key] of Object.entries(completed.reports)) {
      const file = path.join(opts.out, name);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, await store.get(key));
    }
    ctx.err(`wrote ${Object.keys(completed.reports).length} report files to ${opts.out}`);
  }
  if (!opts.json) {
    ctx.out('');
    ctx.out(`reports (${store.describe()}):`);
    for (const key of Object.values(completed.reports).sort()) ctx.out(`  ${key}`);
  }
  return 0;
}
