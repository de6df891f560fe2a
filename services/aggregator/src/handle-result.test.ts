// The aggregator's counters after Redis lost them: rebuilt from the store, and a rebuild cut short
// (the process killed part-way) must not leave counters that look whole. Real Redis, filesystem store.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builtinKinds } from '../../../shared/src/kinds/registry.js';
import { makeEnvelope, type Envelope } from '../../../shared/src/messages/index.js';
import { createRedis } from '../../../shared/src/redis/index.js';
import { reopenJob, RunCounters, runKeys } from '../../../shared/src/runs/index.js';
import type { Bus } from '../../../shared/src/service/bus.js';
import { createArtifactStore, putJson } from '../../../shared/src/storage/index.js';
import { KindRegistry, PlatformTypes } from '../../../shared/src/workflow/index.js';
import { testLogger } from '../../../test/support/rabbit.js';
import { handleDeadLettered, handleFinalize, handleResult, type AggregatorDeps } from './handle-result.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const runId = 'rebuild-run';
const total = 6;

function result(i: number): Envelope {
  return makeEnvelope({
    type: PlatformTypes.jobResult,
    runId,
    jobId: `echo/${i}`,
    kind: 'echo',
    stage: 'aggregate',
    payload: { kind: 'echo', outcome: 'ok', result: { index: i, text: `t${i}` }, artifacts: {} },
  });
}

async function setUp() {
  const dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-rebuild-'));
  const redis = createRedis({
    url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    keyPrefix: `ef-test:${randomUUID()}:`,
  });
  cleanups.push(async () => {
    const keys = await redis.keys(`${redis.options.keyPrefix ?? ''}*`);
    const prefix = redis.options.keyPrefix ?? '';
    if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  });
  const store = createArtifactStore({ kind: 'fs', root: dir });
  const completed: string[] = [];
  const bus: Bus = {
    publish: () => Promise.reject(new Error('nothing to publish here')),
    publishEvent: (_name, env) => {
      completed.push(env.runId);
      return Promise.resolve();
    },
  };
  const counters = new RunCounters(redis);
  const deps: AggregatorDeps = {
    registry: new KindRegistry(builtinKinds),
    store,
    bus,
    counters,
    logger: testLogger(),
  };
  const now = new Date().toISOString();
  await putJson(store, runKeys.record(runId), {
    runId,
    kind: 'echo',
    createdAt: now,
    updatedAt: now,
    totalJobs: total,
    skippedJobs: 0,
    spec: { count: total, text: 't' },
    meta: {},
  });
  await counters.setTotal(runId, total);
  return { deps, counters, store, redis, completed };
}

describe('aggregator counters rebuilt from the store', () => {
  it('a rebuild cut short leaves the total missing, so the next delivery rebuilds and the run completes', async () => {
    const { deps, counters, store, redis, completed } = await setUp();
    // Every job but the last counted and stored; then Redis forgets the run (restarted empty).
    for (let i = 0; i < total - 1; i++) await handleResult(result(i), deps);
    expect((await counters.progress(runId)).done).toBe(total - 1);
    const prefix = redis.options.keyPrefix ?? '';
    const runKeysInRedis = (await redis.keys(`${prefix}*`)).map((k) => k.slice(prefix.length));
    await redis.del(...runKeysInRedis);

    // The last result's first delivery: its handler rebuilds, and dies after counting two stored results.
    let calls = 0;
    const dying = Object.create(counters) as RunCounters;
    dying.recordResult = async (...args: Parameters<RunCounters['recordResult']>) => {
      if (++calls > 3) throw new Error('killed mid-rebuild');
      return counters.recordResult(...args);
    };
    await expect(handleResult(result(total - 1), { ...deps, counters: dying })).rejects.toThrow('killed mid-rebuild');
    // Not a count that looks whole: no total, so the run is known to need a rebuild.
    expect((await counters.progress(runId)).total).toBeUndefined();
    expect(completed).toEqual([]);

    // The redelivery (a healthy aggregator) rebuilds from the store and completes the run.
    await handleResult(result(total - 1), deps);
    expect(await counters.progress(runId)).toMatchObject({ total, done: total });
    expect(await store.exists(runKeys.completed(runId))).toBe(true);
    expect(completed).toEqual([runId]);
  });
});

describe('aggregator finalize', () => {
  it('handlers that reach a run end at the same time read its results once and announce it once', async () => {
    const { deps, counters, store, completed } = await setUp();
    // Every result stored and counted (as a handler does), the run not yet finalized.
    for (let i = 0; i < total; i++) {
      const env = result(i);
      await putJson(store, runKeys.result(runId, env.jobId), {
        runId,
        jobId: env.jobId,
        kind: 'echo',
        outcome: 'ok',
        result: { index: i, text: `t${i}` },
        artifacts: {},
        attempt: 1,
        recordedAt: new Date().toISOString(),
      });
      await counters.recordResult(runId, env.jobId, 'ok');
    }
    let listings = 0;
    const counting = Object.create(store) as typeof store;
    counting.list = (prefix: string) => {
      if (prefix === runKeys.resultsPrefix(runId)) listings++;
      return store.list(prefix);
    };
    const finalize = makeEnvelope({
      type: PlatformTypes.runFinalize,
      runId,
      jobId: `${runId}:finalize`,
      kind: 'echo',
      stage: 'aggregate',
      payload: {},
    });
    // The last result redelivered three times and two run.finalize messages, all at once.
    await Promise.all([
      ...[0, 1, 2].map(() => handleResult(result(total - 1), { ...deps, store: counting })),
      ...[0, 1].map(() => handleFinalize(finalize, { ...deps, store: counting })),
    ]);
    expect(await store.exists(runKeys.completed(runId))).toBe(true);
    expect(listings).toBe(1);
    expect(completed).toEqual([runId]);
  });
});

describe('aggregator rebuilding a completed run', () => {
  const deadLetter = (i: number): Envelope =>
    makeEnvelope({
      type: PlatformTypes.jobDeadLettered,
      runId,
      jobId: `echo/${i}`,
      kind: 'echo',
      stage: 'aggregate',
      payload: { type: 'echo.run', stage: 'echo', code: 'fault_injected', message: 'by the test', payload: {} },
    });

  it('leaves the run open when a requeue re-opens a job during the rebuild; that job then completes it', async () => {
    const { deps, counters, store, completed } = await setUp();
    for (let i = 0; i < total - 2; i++) await handleResult(result(i), deps);
    await handleDeadLettered(deadLetter(total - 2), deps);
    await handleDeadLettered(deadLetter(total - 1), deps);
    expect(await store.exists(runKeys.completed(runId))).toBe(true);

    // The last job's real result replaces its dead letter, so the completed run is rebuilt; between that
    // rebuild's listing and its reads, a requeue takes the other dead letter back.
    const racing = Object.create(store) as typeof store;
    racing.list = async function* (prefix: string) {
      const keys: string[] = [];
      for await (const key of store.list(prefix)) keys.push(key);
      if (prefix === runKeys.resultsPrefix(runId))
        expect(await reopenJob(runId, `echo/${total - 2}`, { ...deps, store })).toBe(true);
      yield* keys;
    };
    await expect(handleResult(result(total - 1), { ...deps, store: racing })).rejects.toMatchObject({
      code: 'results_incomplete',
    });
    // No report of a run that is not whole: it is open again, as the requeue left it.
    expect(await store.exists(runKeys.completed(runId))).toBe(false);
    expect(completed).toEqual([runId]);

    // The redelivery finds its result recorded and the run short; the re-opened job's result completes it.
    await handleResult(result(total - 1), deps);
    expect(await store.exists(runKeys.completed(runId))).toBe(false);
    await handleResult(result(total - 2), deps);
    expect(await counters.progress(runId)).toMatchObject({ total, done: total, outcomes: { 'outcome:ok': total } });
    expect(await store.exists(runKeys.completed(runId))).toBe(true);
    expect(completed).toEqual([runId, runId]);
  });
});

describe('aggregator with a torn stored result', () => {
  it('writes a record the store kept torn again from the redelivered result, and the run completes', async () => {
    const { deps, counters, store, completed } = await setUp();
    for (let i = 0; i < total - 1; i++) await handleResult(result(i), deps);
    // The last job's first attempt died mid-upload and left half a record (an S3-compatible server killed
    // during the PUT keeps what it had received); that attempt was never counted.
    const last = result(total - 1);
    await store.put(runKeys.result(runId, last.jobId), '{"runId":"rebuild-run","jobId":"ec');
    await handleResult(last, deps);
    const record = JSON.parse((await store.get(runKeys.result(runId, last.jobId))).toString('utf8')) as {
      outcome: string;
      result: unknown;
    };
    expect(record).toMatchObject({ outcome: 'ok', result: { index: total - 1, text: `t${total - 1}` } });
    expect(await counters.progress(runId)).toMatchObject({ total, done: total });
    expect(await store.exists(runKeys.completed(runId))).toBe(true);
    expect(completed).toEqual([runId]);
  });
});
