import { RunCounters } from '@evalfleet/shared/runs';
import type { CliContext } from '../context.js';
import { outcomeSummary, progressLine, RateMeter, stageSummary } from '../progress.js';
import { readCompleted, readRun } from './runs.js';

/** `evalfleet status RUN`: what the run asked for and how far it is. */
export async function statusCommand(ctx: CliContext, runId: string, opts: { json?: boolean }): Promise<number> {
  const record = await readRun(ctx, runId);
  const progress = await new RunCounters(await ctx.redis()).progress(runId);
  const completed = await readCompleted(ctx, runId);
  if (!record && progress.total === undefined) {
    ctx.err(`no run ${runId} (not in ${ctx.store().describe()}; the producer may not have picked it up yet)`);
    return 2;
  }
  const status = completed ? 'completed' : 'running';
  if (opts.json) {
    ctx.out(
      JSON.stringify({ runId, status, kind: record?.kind, totalJobs: record?.totalJobs, progress, completed }, null, 2),
    );
    return 0;
  }
  ctx.out(
    `run ${runId} (${record?.kind ?? '?'}): ${status}, ${progress.done}/${progress.total ?? record?.totalJobs ?? '?'} jobs done`,
  );
  if (record?.skippedJobs) ctx.out(`  resumed: ${record.skippedJobs} jobs were already done`);
  const stages = stageSummary(progress);
  if (stages) ctx.out(`  stages   ${stages}`);
  const outcomes = outcomeSummary(progress);
  if (outcomes) ctx.out(`  outcomes ${outcomes}`);
  if (completed)
    ctx.out(
      `  reports  ${Object.keys(completed.reports).length} files under runs/${runId}/ (evalfleet report ${runId})`,
    );
  return 0;
}

/**
 * Polls the run's counters and draws a progress line on stderr until the run completes
 * (resolves true) or `signal` aborts (false).
 */
export async function watchRun(
  ctx: CliContext,
  runId: string,
  opts: { signal?: AbortSignal; intervalMs?: number; quiet?: boolean } = {},
): Promise<boolean> {
  const counters = new RunCounters(await ctx.redis());
  const meter = new RateMeter();
  const tty = process.stderr.isTTY;
  let lastPrinted = 0;
  while (!opts.signal?.aborted) {
    const progress = await counters.progress(runId);
    meter.add(progress.done);
    const completed = await ctx.store().exists(`runs/${runId}/completed.json`);
    const now = Date.now();
    if (!opts.quiet && (tty || now - lastPrinted > 5000 || completed)) {
      const line = progressLine(progress, meter.perSecond());
      const stages = stageSummary(progress);
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else process.stderr.write(`${line}${stages ? `  [${stages}]` : ''}\n`);
      lastPrinted = now;
    }
    if (completed) {
      if (tty && !opts.quiet) process.stderr.write('\n');
      return true;
    }
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, opts.intervalMs ?? 500);
      opts.signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
    });
  }
  if (tty && !opts.quiet) process.stderr.write('\n');
  return false;
}

export async function watchCommand(ctx: CliContext, runId: string): Promise<number> {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  try {
    const done = await watchRun(ctx, runId, { signal: ac.signal });
    if (done) ctx.out(`run ${runId} completed: evalfleet report ${runId}`);
    return done ? 0 : 130;
  } finally {
    process.off('SIGINT', stop);
  }
}
