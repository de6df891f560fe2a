import { BrokerErrorCodes } from '@evalfleet/shared/broker';
import type { Logger } from '@evalfleet/shared/logger';
import { PermanentError } from '@evalfleet/shared/errors';
import { makeEnvelope, platformStages, type Envelope } from '@evalfleet/shared/messages';
import {
  addedJobs,
  decodeJobId,
  runKeys,
  runRecordSchema,
  type RunCounters,
  type RunRecord,
} from '@evalfleet/shared/runs';
import { mapLimit } from '@evalfleet/shared/report';
import { publishAll, type Bus } from '@evalfleet/shared/service';
import { getOptionalJson, putJson, type ArtifactStore } from '@evalfleet/shared/storage';
import {
  PlatformTypes,
  PRODUCE,
  runRequestedBaseSchema,
  type KindRegistry,
  type PlannedJob,
  type Router,
  type SharedSet,
} from '@evalfleet/shared/workflow';

export type ProducerDeps = {
  registry: KindRegistry;
  router: Router;
  bus: Bus;
  store: ArtifactStore;
  counters: RunCounters;
  logger: Logger;
  knownModels: () => ReadonlySet<string>;
  /** A kind's fleet-wide set by name (Redis), handed to its expansion as `sharedSet`. */
  sharedSet?: (kind: string, name: string) => SharedSet;
  /** Called after each published job (progress metrics). */
  onPublished?: (kind: string) => void;
  /** Publish confirms an expansion keeps outstanding at once (default 64). */
  publishWindow?: number;
  /** Jobs per published message (batch messages; default 8, 1 publishes every job as its own message). */
  batchSize?: number;
};

const resumeBatch = 500;

/**
 * Expands a `run.requested` into jobs with its kind's expansion. Writes `run.json` (with the job
 * count) before the first job leaves, so the aggregator always knows the total; skips jobs that
 * already have a result (a re-submitted run id resumes); routes each job's first message by the
 * kind's pipeline; ends with `run.finalize` so a run whose jobs were all done already still
 * completes. Redelivery republishes; the aggregator dedupes.
 */
export async function handleRunRequested(env: Envelope, deps: ProducerDeps): Promise<void> {
  const request = runRequestedBaseSchema.parse(env.payload);
  const kind = deps.registry.kind(request.kind);
  if (env.kind !== request.kind)
    throw new PermanentError('kind_mismatch', `envelope kind ${env.kind} but request kind ${request.kind}`);
  const log = deps.logger.child({ runId: env.runId, kind: request.kind });
  const sets = deps.sharedSet;
  const expansion = await kind.expand({
    runId: env.runId,
    spec: request.spec,
    store: deps.store,
    logger: log,
    knownModels: deps.knownModels,
    ...(sets ? { sharedSet: (name: string) => sets(request.kind, name) } : {}),
  });

  const previous = await getOptionalJson(deps.store, runKeys.record(env.runId), runRecordSchema);
  if (previous && previous.kind !== request.kind) {
    throw new PermanentError('run_conflict', `run ${env.runId} exists with kind ${previous.kind}`);
  }
  const now = new Date().toISOString();
  const record: RunRecord = {
    runId: env.runId,
    kind: request.kind,
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
    totalJobs: expansion.jobs.length,
    skippedJobs: 0,
    spec: kind.parseSpec(request.spec),
    meta: expansion.meta,
  };

  // Redis knows which jobs are done while it holds the run's counters; when it lost them (restarted empty),
  // the store's results say it instead (otherwise a resume after a wipe re-ran every job).
  const stored =
    previous && (await deps.counters.getTotal(env.runId)) === undefined
      ? await storedResultJobs(env.runId, deps.store)
      : undefined;
  let skipped = 0;
  const pending: PlannedJob[] = [];
  for (let i = 0; i < expansion.jobs.length; i += resumeBatch) {
    const batch = expansion.jobs.slice(i, i + resumeBatch);
    const done = await deps.counters.doneAmong(
      env.runId,
      batch.map((j) => j.jobId),
    );
    for (const job of batch) {
      if (done.has(job.jobId) || stored?.has(job.jobId)) skipped += 1;
      else pending.push(job);
    }
  }
  record.skippedJobs = skipped;
  // A resubmitted run is open again until it completes anew (its reports are rewritten then, with
  // whatever the new request added, and `run.completed` fires again).
  if (previous) await deps.store.delete(runKeys.completed(env.runId));
  await putJson(deps.store, runKeys.record(env.runId), record);
  await putJson(deps.store, runKeys.index(env.runId), {
    runId: env.runId,
    kind: record.kind,
    createdAt: record.createdAt,
  });
  // A resumed run keeps the jobs its kind added after the first expansion (fan-out). Counters that Redis
  // lost stay missing: the aggregator rebuilds them from the store (results and total) on the run's next
  // message, at the latest the run.finalize below; a total set here would wait for skipped jobs forever.
  if (!stored)
    await deps.counters.setTotalWithAdded(env.runId, record.totalJobs, await addedJobs(env.runId, deps.store));
  log.info({ total: record.totalJobs, skipped, publishing: pending.length }, 'run expanded');

  // Validate every job's first message before publishing any, so a bad expansion publishes nothing.
  const origin = { runId: env.runId, kind: request.kind, traceId: env.traceId, step: PRODUCE };
  const envelopes = pending.map((job) =>
    deps.router.envelopeFor({ ...origin, jobId: job.jobId }, job.outcome, job.payload),
  );
  // Jobs travel `batchSize` (8) to a message (batch messages, one broker message and ack per batch), and up
  // to `publishWindow` (64) confirms are outstanding at once: one at a time, a 6,000-job expansion took about
  // a minute, and a producer killed in that minute re-published, on redelivery, every job not yet done.
  const batchSize = Math.max(1, deps.batchSize ?? 8);
  const batches: Envelope[][] = [];
  for (let i = 0; i < envelopes.length; i += batchSize) batches.push(envelopes.slice(i, i + batchSize));
  let published = 0;
  await mapLimit(batches, deps.publishWindow ?? 64, async (batch) => {
    try {
      await publishAll(deps.bus, batch, batchSize);
    } catch (err) {
      if (!isTooLarge(err)) throw err;
      // Some job's first message can never travel (a batch is cut to fit, so it is that one alone): publish
      // the batch's jobs one by one to find it (its mates may arrive twice; the aggregator dedupes).
      for (const next of batch) await publishOne(next, deps, log);
    }
    published += batch.length;
    for (let i = 0; i < batch.length; i++) deps.onPublished?.(request.kind);
    if (Math.floor(published / 1000) > Math.floor((published - batch.length) / 1000))
      log.info({ published, of: pending.length }, 'publishing jobs');
  });
  if (published > 0) await deps.counters.stageDone(env.runId, platformStages.produce, 'published', published);
  await deps.bus.publish(
    makeEnvelope({
      type: PlatformTypes.runFinalize,
      runId: env.runId,
      jobId: `${env.runId}:finalize`,
      kind: request.kind,
      stage: platformStages.aggregate,
      payload: { reason: skipped > 0 ? 'resumed' : 'expanded' },
      traceId: env.traceId,
    }),
  );
}

function isTooLarge(err: unknown): err is PermanentError {
  return err instanceof PermanentError && err.code === BrokerErrorCodes.messageTooLarge;
}

async function publishOne(next: Envelope, deps: ProducerDeps, log: Logger): Promise<void> {
  try {
    await deps.bus.publish(next);
  } catch (err) {
    if (!isTooLarge(err)) throw err;
    // This job's first message can never travel. Failing the request would sink the whole run for
    // one job; the job alone ends dead-lettered instead (as a dead letter of that message would).
    log.warn({ jobId: next.jobId, err }, 'a job’s first message is over the broker’s limit; dead-lettering the job');
    await deps.bus.publish(tooLargeDeadLetter(next, err));
  }
}

/** The jobs of a run with a stored result (their keys alone: one listing request per 1,000). */
async function storedResultJobs(runId: string, store: ArtifactStore): Promise<Set<string>> {
  const prefix = runKeys.resultsPrefix(runId);
  const jobs = new Set<string>();
  for await (const key of store.list(prefix)) {
    if (key.endsWith('.json')) jobs.add(decodeJobId(key.slice(prefix.length, -'.json'.length)));
  }
  return jobs;
}

/** Fields of a payload too large to carry a dead letter's identity are dropped (strings, code, blobs). */
const maxKeptFieldBytes = 1024;

/** The `job.dead_lettered` a job whose message cannot be published ends with: its small fields, the reason. */
function tooLargeDeadLetter(next: Envelope, err: PermanentError): Envelope {
  const payload =
    typeof next.payload === 'object' && next.payload !== null
      ? Object.fromEntries(
          Object.entries(next.payload).filter(([, v]) => (JSON.stringify(v) ?? '').length <= maxKeptFieldBytes),
        )
      : {};
  return makeEnvelope({
    type: PlatformTypes.jobDeadLettered,
    runId: next.runId,
    jobId: next.jobId,
    kind: next.kind,
    stage: platformStages.aggregate,
    traceId: next.traceId,
    payload: { type: next.type, stage: next.stage, code: err.code, message: err.message, payload },
  });
}
