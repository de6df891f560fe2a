import { queueDepths } from '@evalfleet/shared/broker';
import { RunCounters } from '@evalfleet/shared/runs';
import { PlatformTypes } from '@evalfleet/shared/workflow';
import type { CliContext } from '../context.js';
import { outcomeSummary, progressLine, RateMeter, stageSummary } from '../progress.js';
import { queueBlock, QueueWarnings, type StageDepth } from '../queues.js';
import { readCompleted, readRun } from './runs.js';

/** `evalfleet status RUN`: what the run asked for and how far it is, by stage and outcome. */
export async function statusCommand(ctx: CliContext, runId: string, opts: { json?: boolean }): Promise<number> {
  const record = await readRun(ctx, runId);
  const progress = await new RunCounters(await ctx.redis()).progress(runId);
  const completed = await readCompleted(ctx, runId);
  const queues = await stageDepths(ctx);
  if (!record && progress.total === undefined) {
    ctx.err(`no run ${runId} (not in ${ctx.store().describe()}; the producer may not have picked it up yet)`);
    // Why it may not have: a produce queue with work and no consumer says so.
    if (!opts.json && Array.isArray(queues)) for (const l of queueBlock(queues)) ctx.err(`  ${l}`);
    return 2;
  }
  const status = completed ? completed.status : 'running';
  if (opts.json) {
    ctx.out(
      JSON.stringify(
        {
          runId,
          status,
          kind: record?.kind,
          totalJobs: record?.totalJobs,
          progress,
          completed,
          queues: Array.isArray(queues) ? queues : null,
        },
        null,
        2,
      ),
    );
    return 0;
  }
  ctx.out(
    `run ${runId} (${record?.kind ?? '?'}): ${status}, ${progress.done}/${progress.total ?? record?.totalJobs ?? '?'} jobs done`,
  );
  if (completed?.status === 'failed') ctx.out(`  reason   ${completed.reason ?? '?'}`);
  if (record?.skippedJobs) ctx.out(`  resumed: ${record.skippedJobs} jobs were already done`);
  const stages = stageSummary(progress);
  if (stages) ctx.out(`  stages   ${stages}`);
  const outcomes = outcomeSummary(progress);
  if (outcomes) ctx.out(`  outcomes ${outcomes}`);
  ctx.out('  queues');
  if (Array.isArray(queues)) for (const l of queueBlock(queues)) ctx.out(`    ${l}`);
  else ctx.out(`    unavailable: ${queues.error}`);
  const dead = progress.outcomes['outcome:dead_lettered'] ?? 0;
  if (dead > 0) ctx.out(`  ${dead} job(s) dead-lettered: evalfleet dlq list, then evalfleet dlq requeue <stage>`);
  if (completed && completed.status === 'completed')
    ctx.out(
      `  reports  ${Object.keys(completed.reports).length} files under runs/${runId}/ (evalfleet report ${runId})`,
    );
  return 0;
}

function completedAfter(payload: unknown, after: Date | undefined): boolean {
  if (after === undefined) return true;
  const at: unknown = typeof payload === 'object' && payload !== null ? Reflect.get(payload, 'completedAt') : undefined;
  return typeof at === 'string' && Date.parse(at) >= after.getTime();
}

/**
 * Follows a run until it completes (true) or `signal` aborts (false): completion comes from the
 * `run.completed` event (and `completed.json` read once after subscribing, for a run that ended
 * before); the progress line on stderr comes from the run's counters in Redis.
 */
export async function watchRun(
  ctx: CliContext,
  runId: string,
  opts: {
    signal?: AbortSignal;
    intervalMs?: number;
    quiet?: boolean;
    queueCheckMs?: number;
    /**
     * A `completed.json` already there counts only if written after this instant (a resubmitted
     * run's earlier completion does not); events heard after subscribing always count.
     */
    after?: Date;
  } = {},
): Promise<boolean> {
  const counters = new RunCounters(await ctx.redis());
  const broker = await ctx.broker();
  let finished!: () => void;
  const completion = new Promise<void>((resolve) => (finished = resolve));
  const sub = await broker.subscribeEvents({
    events: [PlatformTypes.runCompleted],
    handler: (env) => {
      // An event heard after subscribing is a new completion, whatever the clocks say.
      if (env.runId === runId) finished();
    },
  });
  const meter = new RateMeter();
  const tty = process.stderr.isTTY;
  let lastPrinted = 0;
  let done = false;
  void completion.then(() => (done = true));
  const draw = async (final: boolean) => {
    if (opts.quiet) return;
    const progress = await counters.progress(runId);
    meter.add(progress.done);
    const now = Date.now();
    if (!tty && !final && now - lastPrinted < 5000) return;
    const line = progressLine(progress, meter.perSecond());
    const stages = stageSummary(progress);
    if (tty) process.stderr.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else process.stderr.write(`${line}${stages ? `  [${stages}]` : ''}\n`);
    lastPrinted = now;
  };
  // A stage with work and no consumer stalls the run for good: say so when it appears (and clears).
  const warnings = new QueueWarnings();
  let lastQueueCheck = 0;
  const checkQueues = async () => {
    if (opts.quiet || Date.now() - lastQueueCheck < (opts.queueCheckMs ?? 3000)) return;
    lastQueueCheck = Date.now();
    const depths = await stageDepths(ctx);
    if (!Array.isArray(depths)) return;
    for (const line of warnings.update(depths)) process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${line}\n`);
  };
  try {
    const already = await readCompleted(ctx, runId);
    if (already && completedAfter(already, opts.after)) finished();
    const aborted = new Promise<void>((resolve) => {
      if (opts.signal?.aborted) resolve();
      opts.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    while (!done && !opts.signal?.aborted) {
      await checkQueues();
      await draw(false);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        completion,
        aborted,
        new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.intervalMs ?? 1000))),
      ]);
      clearTimeout(timer);
    }
    if (done) await draw(true);
    else if (tty && !opts.quiet) process.stderr.write('\n');
    return done;
  } finally {
    await sub.close();
  }
}

export async function watchCommand(ctx: CliContext, runId: string): Promise<number> {
  const done = await watchRun(ctx, runId, { signal: ctx.signals.signal });
  if (done) {
    const completed = await readCompleted(ctx, runId);
    if (completed?.status === 'failed') {
      ctx.out(`run ${runId} failed: ${completed.reason ?? '?'}`);
      return 1;
    }
    ctx.out(`run ${runId} completed: evalfleet report ${runId}`);
  }
  return done ? 0 : 130;
}

/** Per stage: queued messages, consumers and dead letters; an error when the broker does not answer. */
export async function stageDepths(ctx: CliContext): Promise<StageDepth[] | { error: string }> {
  try {
    return (await queueDepths(await ctx.broker())).stages;
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}
