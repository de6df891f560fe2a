import { RetryableError } from '../errors/index.js';
import type { Logger } from '../logger/index.js';
import { makeEnvelope, platformStages } from '../messages/index.js';
import { mapLimit } from '../report/clip.js';
import type { Bus } from '../service/bus.js';
import { getOptionalJson, putJson, type ArtifactStore } from '../storage/index.js';
import type { KindRegistry } from '../workflow/registry.js';
import { PlatformTypes } from '../workflow/platform.js';
import { addedJobs, totalWith } from './added.js';
import { DEAD_LETTERED, type RunCounters } from './counters.js';
import { runKeys } from './keys.js';
import {
  runCompletedRecordSchema,
  runRecordSchema,
  storedResultSchema,
  type RunCompletedRecord,
  type RunRecord,
  type StoredResult,
} from './record.js';

export type FinalizeDeps = {
  registry: KindRegistry;
  store: ArtifactStore;
  bus: Bus;
  logger: Logger;
  onCompleted?: (kind: string, status: 'completed' | 'failed') => void;
};

export async function loadRunRecord(runId: string, store: ArtifactStore): Promise<RunRecord> {
  const record = await getOptionalJson(store, runKeys.record(runId), runRecordSchema);
  if (!record) throw new RetryableError('run_record_missing', `run ${runId} has no run.json yet`);
  return record;
}

/**
 * Every stored terminal result of a run (the source of truth every report is built from), in key order.
 * Read 16 at a time: one at a time, a run of 6,000 results took minutes to finalize from a slow store. A
 * result deleted between the listing and its read was taken back (`reopenJob`: its dead letter is being
 * requeued), so it is no result any more: left out, not an error (a finalize then finds the run short).
 */
export async function loadResults(runId: string, store: ArtifactStore): Promise<StoredResult[]> {
  const keys: string[] = [];
  for await (const key of store.list(runKeys.resultsPrefix(runId))) if (key.endsWith('.json')) keys.push(key);
  const results = await mapLimit(keys, 16, (key) => getOptionalJson(store, key, storedResultSchema));
  return results.filter((r): r is StoredResult => r !== undefined);
}

async function announce(deps: FinalizeDeps, record: RunCompletedRecord, kind: string): Promise<void> {
  await deps.bus.publishEvent(
    PlatformTypes.runCompleted,
    makeEnvelope({
      type: PlatformTypes.runCompleted,
      runId: record.runId,
      jobId: `${record.runId}:completed`,
      kind,
      stage: platformStages.aggregate,
      payload: {
        totalJobs: record.totalJobs,
        reports: record.reports,
        completedAt: record.completedAt,
        status: record.status,
        ...(record.reason ? { reason: record.reason } : {}),
      },
    }),
  );
}

/**
 * Writes the run's reports (its kind's reporter, from storage alone), `completed.json`, and announces
 * `run.completed`. Idempotent: two aggregators finishing the same run write the same files; clients
 * ignore a repeated event. `force` rebuilds an already completed run; `partial` also writes the reports
 * of a run that is not whole (`evalfleet report --rebuild`), which is otherwise results_incomplete.
 */
export async function finalizeRun(
  runId: string,
  deps: FinalizeDeps,
  opts: { force?: boolean; partial?: boolean } = {},
): Promise<void> {
  if (!opts.force && (await deps.store.exists(runKeys.completed(runId)))) return;
  const stored = await loadRunRecord(runId, deps.store);
  // Jobs added after the expansion (a kind's fan-out) count like the expansion's own.
  const record = { ...stored, totalJobs: totalWith(stored.totalJobs, await addedJobs(runId, deps.store)) };
  const results = await loadResults(runId, deps.store);
  // A forced rebuild that finds the run short (a requeue re-opened a job meanwhile) leaves the run open:
  // the re-opened job's result finalizes it whole.
  if (results.length < record.totalJobs && !opts.partial) {
    throw new RetryableError(
      'results_incomplete',
      `run ${runId}: ${results.length} of ${record.totalJobs} results stored`,
    );
  }
  const reports = await deps.registry.kind(record.kind).report({ record, results, store: deps.store });
  const completed = runCompletedRecordSchema.parse({
    runId,
    totalJobs: record.totalJobs,
    completedAt: new Date().toISOString(),
    reports,
  });
  await putJson(deps.store, runKeys.completed(runId), completed);
  deps.onCompleted?.(record.kind, 'completed');
  deps.logger.info({ runId, kind: record.kind, totalJobs: record.totalJobs, reports }, 'run completed');
  await announce(deps, completed, record.kind);
}

/** A run whose request could not be expanded ends `failed`, with the reason, so nobody waits for it forever. */
export async function failRun(
  runId: string,
  kind: string,
  reason: string,
  deps: FinalizeDeps & { counters: RunCounters },
): Promise<void> {
  if (await deps.store.exists(runKeys.completed(runId))) return;
  const now = new Date().toISOString();
  if (!(await deps.store.exists(runKeys.record(runId)))) {
    await putJson(deps.store, runKeys.record(runId), {
      runId,
      kind,
      createdAt: now,
      updatedAt: now,
      totalJobs: 0,
      skippedJobs: 0,
      spec: {},
      meta: { failed: reason },
    } satisfies RunRecord);
    await putJson(deps.store, runKeys.index(runId), { runId, kind, createdAt: now });
  }
  const record = await loadRunRecord(runId, deps.store);
  await deps.counters.setTotal(runId, record.totalJobs);
  const completed = runCompletedRecordSchema.parse({
    runId,
    totalJobs: record.totalJobs,
    completedAt: now,
    reports: {},
    status: 'failed',
    reason,
  });
  await putJson(deps.store, runKeys.completed(runId), completed);
  deps.onCompleted?.(kind, 'failed');
  deps.logger.warn({ runId, kind, reason }, 'run failed: its request was dead-lettered');
  await announce(deps, completed, kind);
}

/**
 * Takes back a job's `dead_lettered` result before its dead letter is requeued: the result file
 * goes, the job is no longer counted, and a completed run is open again (its reports are rebuilt and
 * `run.completed` fires again when the job finishes). Any other result is left alone: false.
 */
export async function reopenJob(
  runId: string,
  jobId: string,
  deps: { store: ArtifactStore; counters: RunCounters; registry: KindRegistry },
): Promise<boolean> {
  const key = runKeys.result(runId, jobId);
  const stored = await getOptionalJson(deps.store, key, storedResultSchema);
  if (!stored || stored.outcome !== DEAD_LETTERED) return false;
  const group = deps.registry.has(stored.kind) ? deps.registry.kind(stored.kind).group(stored.result) : undefined;
  // Counters first, and only while the job is counted as dead-lettered: a real result that replaced the
  // dead letter since it was read (a late delivery racing the requeue) stays counted, and its file stays.
  // Counters that Redis lost are rebuilt from the store, where the file is gone by then.
  const reopened = await deps.counters.reopenDeadLetter(runId, jobId, group);
  if (!reopened && (await deps.counters.getTotal(runId)) !== undefined) return false;
  await deps.store.delete(key);
  await deps.store.delete(runKeys.completed(runId));
  return true;
}
