import type { Redis } from 'ioredis';
import { LuaScript } from '../redis/script.js';

/** The outcome a dead-lettered job's result carries. */
export const DEAD_LETTERED = 'dead_lettered';

// Records a job's terminal outcome once: SADD decides whether this delivery is the first;
// only then are the outcome counters bumped. A job counted as dead-lettered is also kept in the run's
// `dead` set (ARGV[5] = '1'), so that taking it back or replacing it happens once, whoever comes first.
// Returns {added, done, total}.
const recordResultScript = new LuaScript(`
local added = redis.call('SADD', KEYS[1], ARGV[1])
if added == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
  if ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[2], ARGV[3], 1) end
  if ARGV[5] == '1' then
    redis.call('SADD', KEYS[4], ARGV[1])
    redis.call('EXPIRE', KEYS[4], ARGV[4])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
local total = redis.call('GET', KEYS[3])
return {added, redis.call('SCARD', KEYS[1]), total or -1}
`);

// Takes a dead-lettered job's result back (its dead letter is requeued): only while it is still counted
// as dead-lettered; a real result that replaced it meanwhile stays counted.
const reopenScript = new LuaScript(`
if redis.call('SREM', KEYS[3], ARGV[1]) == 0 then return 0 end
if redis.call('SREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
  if ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[2], ARGV[3], -1) end
end
return 1
`);

// A real result replaces a job's dead letter: the outcome moves only while the job is counted as
// dead-lettered (a requeue that took it back meanwhile leaves the counting to the result itself).
const replaceDeadLetterScript = new LuaScript(`
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[2], -1)
redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
if ARGV[4] ~= '' then
  redis.call('HINCRBY', KEYS[1], ARGV[4], -1)
  redis.call('HINCRBY', KEYS[1], ARGV[5], 1)
end
return 1
`);

// A job adds jobs to its run once: only the call that puts it in the run's `added` set grows the total
// (and only while the total exists; a rebuild from the store counts the markers instead).
const addJobsScript = new LuaScript(`
local added = redis.call('SADD', KEYS[1], ARGV[1])
if added == 1 and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('INCRBY', KEYS[2], ARGV[2])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return added
`);

export type RecordResult = { firstTime: boolean; done: number; total: number | undefined };

export type RunProgress = {
  total: number | undefined;
  done: number;
  outcomes: Record<string, number>;
  stages: Record<string, number>;
};

/**
 * Fleet-wide run counters in Redis: which jobs reached a terminal result (a set, so a
 * job counts once however often it is delivered), outcome tallies and per-stage progress.
 * Storage stays the source of truth; these make progress and completion cheap to read.
 */
export class RunCounters {
  constructor(
    private readonly redis: Redis,
    private readonly ttlSeconds = 14 * 24 * 3600,
  ) {}

  private k(runId: string, what: string): string {
    return `run:${runId}:${what}`;
  }

  async setTotal(runId: string, total: number): Promise<void> {
    await this.redis.set(this.k(runId, 'total'), String(total), 'EX', this.ttlSeconds);
  }

  /**
   * The total from the store's view: the expansion's `base` plus every added job's count, and the jobs that
   * added them (so a redelivered add does not count twice).
   */
  async setTotalWithAdded(runId: string, base: number, added: ReadonlyMap<string, number>): Promise<void> {
    let total = base;
    for (const n of added.values()) total += n;
    const m = this.redis.multi().set(this.k(runId, 'total'), String(total), 'EX', this.ttlSeconds);
    m.del(this.k(runId, 'added'));
    if (added.size > 0) m.sadd(this.k(runId, 'added'), ...added.keys()).expire(this.k(runId, 'added'), this.ttlSeconds);
    await m.exec();
  }

  /** `jobId` adds `count` jobs to the run's total, once (see runs/added.ts). */
  async addJobs(runId: string, jobId: string, count: number): Promise<boolean> {
    const added = await addJobsScript.run(
      this.redis,
      [this.k(runId, 'added'), this.k(runId, 'total')],
      [jobId, String(count), String(this.ttlSeconds)],
    );
    return added === 1;
  }

  async getTotal(runId: string): Promise<number | undefined> {
    const v = await this.redis.get(this.k(runId, 'total'));
    return v === null ? undefined : Number(v);
  }

  async isDone(runId: string, jobId: string): Promise<boolean> {
    return (await this.redis.sismember(this.k(runId, 'done'), jobId)) === 1;
  }

  /** Jobs among `jobIds` that already have a terminal result (for resume). */
  async doneAmong(runId: string, jobIds: string[]): Promise<Set<string>> {
    if (jobIds.length === 0) return new Set();
    const flags = await this.redis.smismember(this.k(runId, 'done'), ...jobIds);
    return new Set(jobIds.filter((_, i) => flags[i] === 1));
  }

  async recordResult(runId: string, jobId: string, outcome: string, group?: string): Promise<RecordResult> {
    const reply = (await recordResultScript.run(
      this.redis,
      [this.k(runId, 'done'), this.k(runId, 'outcomes'), this.k(runId, 'total'), this.k(runId, 'dead')],
      [
        jobId,
        `outcome:${outcome}`,
        group ? `group:${group}:${outcome}` : '',
        String(this.ttlSeconds),
        outcome === DEAD_LETTERED ? '1' : '0',
      ],
    )) as [number, number, number | string];
    const total = Number(reply[2]);
    return { firstTime: reply[0] === 1, done: Number(reply[1]), total: total < 0 ? undefined : total };
  }

  /**
   * A dead-lettered job's result is taken back (its dead letter is requeued): it is not done any more.
   * False (and nothing changes) unless the job is counted as dead-lettered right now.
   */
  async reopenDeadLetter(runId: string, jobId: string, group?: string): Promise<boolean> {
    const removed = await reopenScript.run(
      this.redis,
      [this.k(runId, 'done'), this.k(runId, 'outcomes'), this.k(runId, 'dead')],
      [jobId, `outcome:${DEAD_LETTERED}`, group ? `group:${group}:${DEAD_LETTERED}` : ''],
    );
    return removed === 1;
  }

  /**
   * A real result replaced a counted job's dead letter: its outcome moves (the done set is unchanged).
   * False (and nothing changes) unless the job is counted as dead-lettered right now: a requeue took it
   * back first, and recording the result counts it.
   */
  async replaceDeadLetter(runId: string, jobId: string, after: string, group?: string): Promise<boolean> {
    const moved = await replaceDeadLetterScript.run(
      this.redis,
      [this.k(runId, 'outcomes'), this.k(runId, 'dead')],
      [
        jobId,
        `outcome:${DEAD_LETTERED}`,
        `outcome:${after}`,
        group ? `group:${group}:${DEAD_LETTERED}` : '',
        group ? `group:${group}:${after}` : '',
      ],
    );
    return moved === 1;
  }

  /** Adds several `stage:outcome` counts of a run in one round trip (see StageProgress). */
  async stageCounts(runId: string, fields: ReadonlyMap<string, number>): Promise<void> {
    const key = this.k(runId, 'stages');
    const m = this.redis.multi();
    for (const [field, n] of fields) m.hincrby(key, field, n);
    await m.expire(key, this.ttlSeconds).exec();
  }

  /** Counts a stage finishing `n` jobs with `outcome` (progress display only; may over-count on redelivery). */
  async stageDone(runId: string, stage: string, outcome: string, n = 1): Promise<void> {
    const key = this.k(runId, 'stages');
    await this.redis.multi().hincrby(key, `${stage}:${outcome}`, n).expire(key, this.ttlSeconds).exec();
  }

  /** Claims the right to finalize a run (write reports, announce completion) once. */
  async claimCompletion(runId: string): Promise<boolean> {
    const r = await this.redis.set(this.k(runId, 'completed'), '1', 'EX', this.ttlSeconds, 'NX');
    return r === 'OK';
  }

  async releaseCompletion(runId: string): Promise<void> {
    await this.redis.del(this.k(runId, 'completed'));
  }

  /** Jobs of the run with a counted result (one command; `progress` reads the outcomes and stages too). */
  async doneCount(runId: string): Promise<number> {
    return this.redis.scard(this.k(runId, 'done'));
  }

  async progress(runId: string): Promise<RunProgress> {
    const [total, done, outcomes, stages] = await Promise.all([
      this.getTotal(runId),
      this.doneCount(runId),
      this.redis.hgetall(this.k(runId, 'outcomes')),
      this.redis.hgetall(this.k(runId, 'stages')),
    ]);
    const toNumbers = (h: Record<string, string>) =>
      Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
    return { total, done, outcomes: toNumbers(outcomes), stages: toNumbers(stages) };
  }

  /** Forget a run's counters (used when a run is rebuilt from storage). */
  async reset(runId: string): Promise<void> {
    await this.redis.del(
      ...['total', 'done', 'dead', 'outcomes', 'stages', 'completed', 'added'].map((w) => this.k(runId, w)),
    );
  }
}

/**
 * Per-stage progress counts, gathered in memory and written in one round trip per run every
 * `intervalMs` (a Redis MULTI per job step was a measurable share of a job's CPU). Display only:
 * counts not yet flushed when a process dies are lost, never the jobs.
 */
export class StageProgress {
  private pending = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly counters: RunCounters,
    private readonly onError: (err: unknown) => void,
    private readonly intervalMs = 250,
  ) {}

  add(runId: string, stage: string, outcome: string, n = 1): void {
    const run = this.pending.get(runId) ?? new Map<string, number>();
    const field = `${stage}:${outcome}`;
    run.set(field, (run.get(field) ?? 0) + n);
    this.pending.set(runId, run);
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Writes what is pending; resolves when written (errors go to `onError`). */
  flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing = this.flushing.then(async () => {
      for (const [runId, fields] of batch) {
        try {
          await this.counters.stageCounts(runId, fields);
        } catch (err) {
          this.onError(err);
        }
      }
    });
    return this.flushing;
  }
}
