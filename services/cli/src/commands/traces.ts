import { listTraces, loadCalls, readTrace, type CallRow } from '@evalfleet/shared/report';
import { loadResults } from '@evalfleet/shared/runs';
import type { CliContext } from '../context.js';
import { readRun } from './runs.js';

export type TracesOptions = { model?: string; outcome?: string; task?: string; json?: boolean };

/** A job's task from its stored result (any kind whose result names a `taskId`). A `#step` call is its job's. */
async function taskLookup(ctx: CliContext, runId: string): Promise<(jobId: string) => Promise<string | undefined>> {
  const tasks = new Map<string, string>();
  for (const r of await loadResults(runId, ctx.store())) {
    const task = r.result['taskId'];
    if (typeof task === 'string') tasks.set(r.jobId, task);
  }
  return (jobId) => Promise.resolve(tasks.get(jobId.replace(/#[^#]*$/, '')));
}

function table(rows: readonly CallRow[]): string[] {
  const header = ['job', 'att', 'model', 'outcome', 'ms', 'tokens in/out', 'cost $', 'cached', 'retry reason'];
  const cells = rows.map((r) => [
    r.jobId,
    String(r.attempt),
    r.model,
    r.outcome,
    String(Math.round(r.latencyMs)),
    `${r.promptTokens}/${r.completionTokens}`,
    r.costUsd.toFixed(6),
    r.cached ? 'yes' : '',
    r.retryReason ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (i === 1 || i === 4 || i === 6 ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)];
}

/** `evalfleet traces RUN`: the run's LLM calls (one per job attempt), filtered by model, outcome or task. */
export async function tracesCommand(ctx: CliContext, runId: string, opts: TracesOptions): Promise<number> {
  if (!(await readRun(ctx, runId))) {
    ctx.err(`no run ${runId} in ${ctx.store().describe()}`);
    return 2;
  }
  const calls = (await loadCalls(ctx.store(), runId, await taskLookup(ctx, runId))).filter(
    (c) =>
      (opts.model === undefined || c.model === opts.model) &&
      (opts.outcome === undefined || c.outcome === opts.outcome) &&
      (opts.task === undefined || c.taskId === opts.task),
  );
  if (opts.json) {
    ctx.out(JSON.stringify(calls, null, 2));
    return 0;
  }
  for (const line of table(calls)) ctx.out(line);
  const cost = calls.reduce((n, c) => n + c.costUsd, 0);
  const tokens = calls.reduce((n, c) => n + c.promptTokens + c.completionTokens, 0);
  const failed = calls.filter((c) => c.error !== undefined).length;
  ctx.out('');
  ctx.out(`${calls.length} calls · ${failed} failed · ${tokens} tokens · $${cost.toFixed(6)}`);
  if (calls.length > 0) ctx.out(`one call: evalfleet trace ${runId} <job> [--attempt N]`);
  return 0;
}

/** `evalfleet trace RUN JOB`: one call's messages and response (the latest attempt unless `--attempt`). */
export async function traceCommand(
  ctx: CliContext,
  runId: string,
  jobId: string,
  opts: { attempt?: number; json?: boolean },
): Promise<number> {
  const store = ctx.store();
  const refs = await listTraces(store, runId, jobId);
  const ref = opts.attempt === undefined ? refs[refs.length - 1] : refs.find((r) => r.attempt === opts.attempt);
  if (!ref) {
    const have = refs.length > 0 ? ` (attempts: ${refs.map((r) => r.attempt).join(', ')})` : '';
    ctx.err(
      `no trace of job ${jobId}${opts.attempt !== undefined ? ` attempt ${opts.attempt}` : ''} in run ${runId}${have}; evalfleet traces ${runId} lists them`,
    );
    return 2;
  }
  if (opts.json) {
    ctx.out((await store.get(ref.key)).toString('utf8'));
    return 0;
  }
  const t = await readTrace(store, ref.key);
  ctx.out(
    `job ${jobId} · attempt ${ref.attempt} of ${refs.length} · ${t.model}${t.remoteModel ? ` (${t.provider ?? ''} ${t.remoteModel})` : ''}`,
  );
  ctx.out(
    `outcome ${t.outcome}${t.status !== null ? ` · HTTP ${t.status}` : ''}${t.cached ? ' · from the response cache' : ''} · ${Math.round(t.latencyMs)} ms · ` +
      `${t.usage ? `${t.usage.promptTokens}/${t.usage.completionTokens}` : '-'} tokens · $${t.costUsd.toFixed(6)} · ${t.startedAt}`,
  );
  if (t.error) ctx.out(`error ${t.error.code}${t.error.retryable ? ' (retryable)' : ''}: ${t.error.message}`);
  for (const m of t.request.messages) {
    ctx.out('');
    ctx.out(`── ${m.role} ──`);
    ctx.out(m.content);
  }
  ctx.out('');
  ctx.out(`── response${t.finishReason ? ` (${t.finishReason})` : ''} ──`);
  ctx.out(t.responseText ?? (t.rawBody !== undefined ? `(unusable body) ${t.rawBody}` : '(none)'));
  return 0;
}
