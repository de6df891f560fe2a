import type { Logger } from '@evalfleet/shared/logger';
import { RetryableError } from '@evalfleet/shared/errors';
import { jobResultSchema, makeEnvelope, echoJobSchema, type Envelope } from '@evalfleet/shared/messages';
import {
  runKeys,
  runRecordSchema,
  storedResultSchema,
  runCompletedRecordSchema,
  type RunCounters,
  type RunRecord,
  type StoredResult,
} from '@evalfleet/shared/runs';
import type { Bus } from '@evalfleet/shared/service';
import { putJson, type ArtifactStore } from '@evalfleet/shared/storage';
import type { ReporterTable } from './reporters.js';

export type AggregatorDeps = {
  bus: Bus;
  store: ArtifactStore;
  counters: RunCounters;
  reporters: ReporterTable;
  logger: Logger;
  onCounted?: (kind: string, outcome: string) => void;
  onCompleted?: (kind: string) => void;
};

/** A result message (or a smoke-kind job) → the job's terminal result, recorded once. */
export async function handleResult(env: Envelope, deps: AggregatorDeps): Promise<void> {
  const result: {
    kind: StoredResult['kind'];
    outcome: string;
    result: Record<string, unknown>;
    artifacts: StoredResult['artifacts'];
  } =
    env.type === 'echo.job'
      ? { kind: env.kind, outcome: 'ok', result: echoJobSchema.parse(env.payload), artifacts: {} }
      : jobResultSchema.parse(env.payload);
  const stored: StoredResult = {
    runId: env.runId,
    jobId: env.jobId,
    kind: result.kind,
    outcome: result.outcome,
    result: result.result,
    artifacts: result.artifacts,
    attempt: env.attempt,
    recordedAt: new Date().toISOString(),
  };
  // Storage first: if we die after this, the redelivery finds the file and still counts the job.
  await deps.store.putIfAbsent(runKeys.result(env.runId, env.jobId), JSON.stringify(stored), {
    contentType: 'application/json',
  });
  const group = typeof result.result['model'] === 'string' ? result.result['model'] : undefined;
  let counted = await deps.counters.recordResult(env.runId, env.jobId, result.outcome, group);
  if (counted.firstTime) deps.onCounted?.(result.kind, result.outcome);
  if (counted.total === undefined) {
    // Redis lost the run's counters (it keeps nothing on disk): rebuild them from storage.
    await rebuildCounters(env.runId, deps);
    counted = { ...counted, ...(await deps.counters.progress(env.runId)) };
  }
  if (counted.total !== undefined && counted.done >= counted.total) await finalizeRun(env.runId, deps);
}

/** `run.finalize`: complete the run if every job already has a result. */
export async function handleFinalize(env: Envelope, deps: AggregatorDeps): Promise<void> {
  const progress = await deps.counters.progress(env.runId);
  if (progress.total === undefined) await rebuildCounters(env.runId, deps);
  const again = await deps.counters.progress(env.runId);
  if (again.total !== undefined && again.done >= again.total) await finalizeRun(env.runId, deps);
}

async function loadRecord(runId: string, store: ArtifactStore): Promise<RunRecord> {
  const body = await store.getOptional(runKeys.record(runId));
  if (!body) throw new RetryableError('run_record_missing', `run ${runId} has no run.json yet`);
  return runRecordSchema.parse(JSON.parse(body.toString('utf8')));
}

async function rebuildCounters(runId: string, deps: AggregatorDeps): Promise<void> {
  const record = await loadRecord(runId, deps.store);
  deps.logger.warn({ runId }, 'run counters missing in Redis; rebuilding from storage');
  await deps.counters.setTotal(runId, record.totalJobs);
  for (const r of await loadResults(runId, deps.store)) {
    const group = typeof r.result['model'] === 'string' ? r.result['model'] : undefined;
    await deps.counters.recordResult(runId, r.jobId, r.outcome, group);
  }
}

export async function loadResults(runId: string, store: ArtifactStore): Promise<StoredResult[]> {
  const out: StoredResult[] = [];
  for await (const key of store.list(runKeys.resultsPrefix(runId))) {
    if (!key.endsWith('.json')) continue;
    out.push(storedResultSchema.parse(JSON.parse((await store.get(key)).toString('utf8'))));
  }
  return out;
}

/**
 * Writes the run's reports from storage alone and announces completion. Idempotent: two
 * aggregators finishing the same run write the same files; clients ignore a repeated event.
 */
export async function finalizeRun(runId: string, deps: AggregatorDeps, opts: { force?: boolean } = {}): Promise<void> {
  if (!opts.force && (await deps.store.exists(runKeys.completed(runId)))) return;
  const record = await loadRecord(runId, deps.store);
  const results = await loadResults(runId, deps.store);
  if (results.length < record.totalJobs && !opts.force) {
    throw new RetryableError(
      'results_incomplete',
      `run ${runId}: ${results.length} of ${record.totalJobs} results stored`,
    );
  }
  const reporter = deps.reporters[record.kind];
  const reports = reporter ? await reporter({ record, results, store: deps.store }) : {};
  const completed = runCompletedRecordSchema.parse({
    runId,
    totalJobs: record.totalJobs,
    completedAt: new Date().toISOString(),
    reports,
  });
  await putJson(deps.store, runKeys.completed(runId), completed);
  deps.onCompleted?.(record.kind);
  deps.logger.info({ runId, kind: record.kind, totalJobs: record.totalJobs, reports }, 'run completed');
  await deps.bus.publishEvent(
    'run.completed',
    makeEnvelope({
      type: 'run.completed',
      runId,
      jobId: `${runId}:completed`,
      kind: record.kind,
      stage: 'aggregate',
      payload: { totalJobs: record.totalJobs, reports, completedAt: completed.completedAt },
    }),
  );
}
