import type { Logger } from '@evalfleet/shared/logger';
import { RetryableError } from '@evalfleet/shared/errors';
import type { Envelope } from '@evalfleet/shared/messages';
import {
  addedJobs,
  DEAD_LETTERED,
  failRun,
  finalizeRun,
  loadResults,
  loadRunRecord,
  runKeys,
  storedResultSchema,
  type FinalizeDeps,
  type RunCounters,
  type StoredResult,
} from '@evalfleet/shared/runs';
import {
  jobDeadLetteredSchema,
  jobResultBaseSchema,
  PlatformTypes,
  runRequestedBaseSchema,
} from '@evalfleet/shared/workflow';

export type AggregatorDeps = FinalizeDeps & {
  counters: RunCounters;
  logger: Logger;
  onCounted?: (kind: string, outcome: string) => void;
  onDeadLettered?: (kind: string, stage: string, code: string) => void;
  /** A run's progress after a counted result (for the run progress gauge). */
  onProgress?: (runId: string, kind: string, done: number, total: number) => void;
};

/** `job.result`: the job's terminal result (already validated against its kind's result schema), recorded once. */
export async function handleResult(env: Envelope, deps: AggregatorDeps): Promise<void> {
  const payload = jobResultBaseSchema.parse(env.payload);
  await recordResult(env, { outcome: payload.outcome, result: payload.result, artifacts: payload.artifacts }, deps);
}

/**
 * `job.dead_lettered`: a message of the job went to a dead-letter queue. The job ends with its kind's
 * dead-lettered result (never a pass), so the run still completes; `evalfleet dlq requeue` re-opens it.
 * A dead-lettered `run.requested` ends its run as `failed`.
 */
export async function handleDeadLettered(env: Envelope, deps: AggregatorDeps): Promise<void> {
  const dead = jobDeadLetteredSchema.parse(env.payload);
  const reason = `${dead.code}: ${dead.message}`.slice(0, 1000);
  if (dead.type === PlatformTypes.runRequested) {
    const kind = runRequestedBaseSchema.safeParse(dead.payload).data?.kind ?? env.kind;
    await failRun(env.runId, kind, reason, deps);
    return;
  }
  if (dead.type === PlatformTypes.runFinalize || dead.type === PlatformTypes.jobDeadLettered) {
    deps.logger.warn({ runId: env.runId, type: dead.type, code: dead.code }, 'a run-level message was dead-lettered');
    return;
  }
  const kind = deps.registry.kind(env.kind);
  const result = kind.deadLettered({
    jobId: env.jobId,
    type: dead.type,
    stage: dead.stage,
    payload: dead.payload,
    code: dead.code,
    message: dead.message,
  });
  deps.onDeadLettered?.(env.kind, dead.stage, dead.code);
  await recordResult(env, { outcome: DEAD_LETTERED, result, artifacts: {} }, deps);
}

/** `run.finalize`: complete the run if every job already has a result. */
export async function handleFinalize(env: Envelope, deps: AggregatorDeps): Promise<void> {
  const progress = await deps.counters.progress(env.runId);
  if (progress.total === undefined) await rebuildCounters(env.runId, deps);
  const again = await deps.counters.progress(env.runId);
  if (again.total !== undefined && again.done >= again.total) await finalizeOnce(env.runId, deps);
}

async function recordResult(
  env: Envelope,
  r: { outcome: string; result: Record<string, unknown>; artifacts: StoredResult['artifacts'] },
  deps: AggregatorDeps,
): Promise<void> {
  const kind = deps.registry.kind(env.kind);
  const stored: StoredResult = {
    runId: env.runId,
    jobId: env.jobId,
    kind: env.kind,
    outcome: r.outcome,
    result: r.result,
    artifacts: r.artifacts,
    attempt: env.attempt,
    recordedAt: new Date().toISOString(),
  };
  const key = runKeys.result(env.runId, env.jobId);
  const group = kind.group(r.result);
  // Storage first: if we die after this, the redelivery finds the file and still counts the job.
  const { created } = await deps.store.putIfAbsent(key, JSON.stringify(stored), { contentType: 'application/json' });
  const replaced = !created && (await replacesDeadLetter(env, stored, key, deps));
  if (replaced) {
    // Moves the count only while the job is counted as dead-lettered; a requeue that took it back meanwhile
    // leaves the counting to recordResult below.
    await deps.counters.replaceDeadLetter(env.runId, env.jobId, r.outcome, group);
    // The run completed with this job dead-lettered (a requeue outside `evalfleet dlq`): rebuild it.
    if (await deps.store.exists(runKeys.completed(env.runId))) {
      await finalizeOnce(env.runId, deps, { changed: true });
      return;
    }
  }
  let counted = await deps.counters.recordResult(env.runId, env.jobId, r.outcome, group);
  if (counted.firstTime) deps.onCounted?.(env.kind, r.outcome);
  if (counted.total === undefined) {
    // Redis lost the run's counters (it keeps nothing on disk): rebuild them from storage.
    await rebuildCounters(env.runId, deps);
    counted = { ...counted, ...(await deps.counters.progress(env.runId)) };
  }
  if (counted.total !== undefined) deps.onProgress?.(env.runId, env.kind, counted.done, counted.total);
  if (counted.total !== undefined && counted.done >= counted.total)
    await finalizeOnce(env.runId, deps, { changed: replaced });
}

/**
 * One finalize per run at a time in this process. The handlers that reach a run's end meanwhile (the
 * last results in one prefetch window, redeliveries after a fault, `run.finalize` messages) wait for it
 * instead of each reading every stored result again. `changed`: this handler rewrote a stored result (a
 * real verdict replaced a dead letter), which a finalize already running may have read before the change,
 * so a completed run is rebuilt once more after it.
 */
async function finalizeOnce(runId: string, deps: AggregatorDeps, opts: { changed?: boolean } = {}): Promise<void> {
  const running = finalizing.get(runId);
  if (running && !opts.changed) return running;
  const next = (running ?? Promise.resolve())
    .catch(() => undefined)
    .then(async () => {
      const force = opts.changed === true && (await deps.store.exists(runKeys.completed(runId)));
      await finalizeRun(runId, deps, { force });
    })
    .finally(() => {
      if (finalizing.get(runId) === next) finalizing.delete(runId);
    });
  finalizing.set(runId, next);
  return next;
}

const finalizing = new Map<string, Promise<void>>();

/**
 * The job already has a stored result: a real result replaces a dead letter (true), and a torn record is
 * written again (false, like every other case: the stored result stands).
 */
async function replacesDeadLetter(
  env: Envelope,
  stored: StoredResult,
  key: string,
  deps: AggregatorDeps,
): Promise<boolean> {
  let body = await deps.store.getOptional(key);
  for (let attempt = 0; !body && attempt < 3; attempt++) {
    // A requeue took the dead letter back between our write and this read: the result is simply new.
    if ((await deps.store.putIfAbsent(key, JSON.stringify(stored), { contentType: 'application/json' })).created)
      return false;
    body = await deps.store.getOptional(key);
  }
  if (!body) throw new RetryableError('result_vanished', `result of ${env.jobId} keeps disappearing`);
  const existing = readStoredResult(body);
  if (!existing) {
    // A store that is not atomic (an S3-compatible server killed mid-upload) can keep a torn object: it is
    // this job's record all the same, and the result in hand is whole. Replaced, the run can still end
    // (its finalize reads every record) instead of failing on it for good.
    await deps.store.put(key, JSON.stringify(stored), { contentType: 'application/json' });
    deps.logger.warn({ runId: env.runId, jobId: env.jobId }, 'a stored result was unreadable; wrote it again');
    return false;
  }
  if (existing.outcome !== DEAD_LETTERED || stored.outcome === DEAD_LETTERED) return false;
  await deps.store.put(key, JSON.stringify(stored), { contentType: 'application/json' });
  deps.logger.info({ runId: env.runId, jobId: env.jobId, outcome: stored.outcome }, 'a result replaced a dead letter');
  return true;
}

function readStoredResult(body: Buffer): StoredResult | undefined {
  try {
    return storedResultSchema.safeParse(JSON.parse(body.toString('utf8'))).data;
  } catch {
    return undefined;
  }
}

/**
 * The run's counters from storage. The total is written last: a rebuild cut short (the process killed,
 * Redis gone again) leaves the total missing, so the next result or finalize rebuilds again, instead of
 * leaving a partial count that looks whole and a run that never completes.
 */
async function rebuildCounters(runId: string, deps: AggregatorDeps): Promise<void> {
  // One rebuild per run at a time in this process: the handlers that find the counters missing meanwhile
  // wait for it instead of each reading every stored result again (a storm after Redis restarts empty).
  const running = rebuilding.get(runId);
  if (running) return running;
  const rebuild = rebuildFromStore(runId, deps).finally(() => rebuilding.delete(runId));
  rebuilding.set(runId, rebuild);
  return rebuild;
}

const rebuilding = new Map<string, Promise<void>>();

async function rebuildFromStore(runId: string, deps: AggregatorDeps): Promise<void> {
  const record = await loadRunRecord(runId, deps.store);
  deps.logger.warn({ runId }, 'run counters missing in Redis; rebuilding from storage');
  for (const r of await loadResults(runId, deps.store)) {
    const group = deps.registry.has(r.kind) ? deps.registry.kind(r.kind).group(r.result) : undefined;
    await deps.counters.recordResult(runId, r.jobId, r.outcome, group);
  }
  await deps.counters.setTotalWithAdded(runId, record.totalJobs, await addedJobs(runId, deps.store));
}
