import { runCompletedRecordSchema, runKeys, runRecordSchema, type RunRecord } from '@evalfleet/shared/runs';
import type { CliContext } from '../context.js';

export async function readRun(ctx: CliContext, runId: string): Promise<RunRecord | undefined> {
  const body = await ctx.store().getOptional(runKeys.record(runId));
  return body ? runRecordSchema.parse(JSON.parse(body.toString('utf8'))) : undefined;
}

export async function readCompleted(ctx: CliContext, runId: string) {
  const body = await ctx.store().getOptional(runKeys.completed(runId));
  return body ? runCompletedRecordSchema.parse(JSON.parse(body.toString('utf8'))) : undefined;
}

/** `evalfleet runs`: every run in the artifact store, newest first. */
export async function runsCommand(ctx: CliContext, opts: { json?: boolean }): Promise<number> {
  const store = ctx.store();
  const rows: { runId: string; kind: string; createdAt: string; totalJobs: number; completed: boolean }[] = [];
  for await (const key of store.list(runKeys.indexPrefix)) {
    const m = /^index\/runs\/([^/]+)\.json$/.exec(key);
    if (!m?.[1]) continue;
    const record = await readRun(ctx, m[1]);
    if (!record) continue;
    rows.push({
      runId: record.runId,
      kind: record.kind,
      createdAt: record.createdAt,
      totalJobs: record.totalJobs,
      completed: await store.exists(runKeys.completed(record.runId)),
    });
  }
  rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  if (opts.json) {
    ctx.out(JSON.stringify(rows, null, 2));
    return 0;
  }
  if (rows.length === 0) {
    ctx.out(`no runs in ${store.describe()}`);
    return 0;
  }
  for (const r of rows) {
    ctx.out(
      `${r.runId}  ${r.kind.padEnd(6)}  ${String(r.totalJobs).padStart(6)} jobs  ${r.completed ? 'completed' : 'running  '}  ${r.createdAt}`,
    );
  }
  return 0;
}
