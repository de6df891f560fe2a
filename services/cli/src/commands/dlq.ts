import { dlqInspect, dlqList, dlqPurge, dlqRequeue } from '@evalfleet/shared/broker';
import { stageSchema, type Stage } from '@evalfleet/shared/messages';
import type { CliContext } from '../context.js';

function parseStage(s: string): Stage {
  const r = stageSchema.safeParse(s);
  if (!r.success) throw new Error(`unknown stage ${s}: one of ${stageSchema.options.join(', ')}`);
  return r.data;
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
  const items = await dlqInspect(conn, conn.namespace, parseStage(stage), { limit: opts.limit ?? 20 });
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
  const r = await dlqRequeue(conn, conn.namespace, parseStage(stage), {
    ...(opts.filter ? { filterCode: opts.filter } : {}),
    ...(opts.limit ? { limit: opts.limit } : {}),
  });
  if (opts.json) ctx.out(JSON.stringify(r));
  else ctx.out(`requeued ${r.moved} message(s) to ${stage}${r.skipped ? `, left ${r.skipped} not matching` : ''}`);
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
  const n = await dlqPurge(conn, conn.namespace, parseStage(stage));
  if (opts.json) ctx.out(JSON.stringify({ purged: n }));
  else ctx.out(`purged ${n} message(s) from ${stage}`);
  return 0;
}
