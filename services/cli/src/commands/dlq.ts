import { dlqInspect, dlqList, dlqPurge, dlqRequeue, type BrokerConnection } from '@evalfleet/shared/broker';
import type { Stage } from '@evalfleet/shared/messages';
import { RunCounters, reopenJob, runCompletedRecordSchema, runKeys } from '@evalfleet/shared/runs';
import { getJson } from '@evalfleet/shared/storage';
import { PlatformTypes } from '@evalfleet/shared/workflow';
import type { CliContext } from '../context.js';

function parseStage(conn: BrokerConnection, s: string): Stage {
  const stages = conn.stages();
  if (!stages.includes(s)) throw new Error(`unknown stage ${s}: one of ${stages.join(', ')}`);
  return s;
}

function age(ms: number | null): string {
  if (ms === null) return '-';
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  return `${Math.round(s / 3600)}h`;
}

/** `evalfleet dlq list`: per stage, work and dead-letter depth and the oldest dead letter's age. */
export async function dlqListCommand(ctx: CliContext, opts: { json?: boolean }): Promise<number> {
  const conn = await ctx.broker();
  const stats = await dlqList(conn);
  if (opts.json) {
    ctx.out(JSON.stringify(stats, null, 2));
    return 0;
  }
  ctx.out(
    `${'stage'.padEnd(10)} ${'queued'.padStart(8)} ${'consumers'.padStart(9)} ${'dead'.padStart(8)} ${'oldest'.padStart(7)}`,
  );
  for (const s of stats) {
    ctx.out(
      `${s.stage.padEnd(10)} ${String(s.workDepth ?? '-').padStart(8)} ${String(s.workConsumers ?? '-').padStart(9)} ${String(s.dlqDepth ?? '-').padStart(8)} ${age(s.oldestAgeMs).padStart(7)}`,
    );
  }
  return 0;
}

/** `evalfleet dlq inspect STAGE`: each dead letter's reason, attempts and history, without consuming it. */
export async function dlqInspectCommand(
  ctx: CliContext,
  stage: string,
  opts: { limit?: number; json?: boolean },
): Promise<number> {
  const conn = await ctx.broker();
  const items = await dlqInspect(conn, conn.namespace, parseStage(conn, stage), { limit: opts.limit ?? 20 });
  if (opts.json) {
    ctx.out(JSON.stringify(items, null, 2));
    return 0;
  }
  if (items.length === 0) ctx.out(`no dead letters in ${stage}`);
  for (const m of items) {
    ctx.out(`${m.type ?? '?'} run=${m.runId ?? '?'} job=${m.jobId ?? '?'} ${m.sizeBytes} B`);
    ctx.out(`  reason   ${m.code}: ${m.message}`);
    ctx.out(
      `  attempts ${m.attempts ?? '?'}  first ${m.firstFailureAt ?? '?'}  last ${m.lastFailureAt ?? '?'}  requeued ${m.requeuedCount}×`,
    );
    for (const h of m.history.slice(-5))
      ctx.out(`  history  ${h.at} ${h.action} ${h.code}${h.message ? `: ${h.message}` : ''}`);
  }
  return 0;
}

/** `evalfleet dlq requeue STAGE`: move dead letters back to work, each exactly once, history kept. */
export async function dlqRequeueCommand(
  ctx: CliContext,
  stage: string,
  opts: { filter?: string; limit?: number; json?: boolean },
): Promise<number> {
  const conn = await ctx.broker();
  const store = ctx.store();
  const deps = { store, counters: new RunCounters(await ctx.redis()), registry: await ctx.registry() };
  const reopened = new Set<string>();
  const r = await dlqRequeue(conn, conn.namespace, parseStage(conn, stage), {
    ...(opts.filter ? { filterCode: opts.filter } : {}),
    ...(opts.limit ? { limit: opts.limit } : {}),
    // The job's dead_lettered result is taken back first, so its run is open again while it runs.
    beforePublish: async ({ type, runId, jobId }) => {
      if (!runId || !jobId) return;
      if (type === PlatformTypes.runRequested) {
        // A run that failed to expand starts over.
        const key = runKeys.completed(runId);
        if ((await store.exists(key)) && (await getJson(store, key, runCompletedRecordSchema)).status === 'failed') {
          await store.delete(key);
          reopened.add(runId);
        }
        return;
      }
      if (await reopenJob(runId, jobId, deps)) reopened.add(runId);
    },
  });
  if (opts.json) ctx.out(JSON.stringify(reopened.size > 0 ? { ...r, reopenedRuns: [...reopened].sort() } : r));
  else {
    ctx.out(`requeued ${r.moved} message(s) to ${stage}${r.skipped ? `, left ${r.skipped} not matching` : ''}`);
    if (reopened.size > 0)
      ctx.out(`re-opened run(s): ${[...reopened].sort().join(', ')} (reports are rebuilt when they finish)`);
  }
  return 0;
}

/** `evalfleet dlq purge STAGE --yes`: drop every dead letter of a stage. */
export async function dlqPurgeCommand(
  ctx: CliContext,
  stage: string,
  opts: { yes?: boolean; json?: boolean },
): Promise<number> {
  if (!opts.yes) {
    ctx.err('purging deletes dead letters for good: add --yes');
    return 2;
  }
  const conn = await ctx.broker();
  const n = await dlqPurge(conn, conn.namespace, parseStage(conn, stage));
  if (opts.json) ctx.out(JSON.stringify({ purged: n }));
  else ctx.out(`purged ${n} message(s) from ${stage}`);
  return 0;
}
