// A dead-lettered job can be taken back (its dead letter requeued) and replaced by a real result at the
// same time, from two processes: whichever comes first, the job ends counted once with its real outcome.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchRedisAndStore, type Scratch } from '../../../test/support/scratch.js';
import { putJson, type ArtifactStore } from '../storage/index.js';
import { KindRegistry } from '../workflow/registry.js';
import { DEAD_LETTERED, RunCounters } from './counters.js';
import { loadResults, reopenJob } from './finalize.js';
import { runKeys } from './keys.js';
import type { StoredResult } from './record.js';

/** A stored result of job `j1` of `runId` (kind unknown to the registry: no group). */
const storedResult = (runId: string, outcome: string): StoredResult => ({
  runId,
  jobId: 'j1',
  kind: 'samples',
  outcome,
  result: {},
  artifacts: {},
  attempt: 1,
  recordedAt: new Date().toISOString(),
});

describe('run counters: dead letters taken back or replaced', () => {
  let scratch: Scratch;
  let store: ArtifactStore;
  let counters: RunCounters;

  beforeAll(async () => {
    scratch = await scratchRedisAndStore('counters');
    store = scratch.store;
    counters = new RunCounters(scratch.redis);
  });

  afterAll(() => scratch.cleanup());

  async function deadLettered(runId: string, jobIds: string[]): Promise<void> {
    await counters.setTotal(runId, jobIds.length);
    for (const j of jobIds) await counters.recordResult(runId, j, DEAD_LETTERED, 'g');
  }

  it('a real result first: the requeue finds nothing to take back, and the job counts once', async () => {
    await deadLettered('a', ['j1', 'j2']);
    expect(await counters.replaceDeadLetter('a', 'j1', 'passed', 'g')).toBe(true);
    expect(await counters.reopenDeadLetter('a', 'j1', 'g')).toBe(false);
    expect((await counters.recordResult('a', 'j1', 'passed', 'g')).firstTime).toBe(false);
    const p = await counters.progress('a');
    expect(p.done).toBe(2);
    expect(p.outcomes).toMatchObject({ 'outcome:passed': 1, 'outcome:dead_lettered': 1, 'group:g:passed': 1 });
  });

  it('the requeue first: the replacement moves nothing, recording the result counts it', async () => {
    await deadLettered('b', ['j1']);
    expect(await counters.reopenDeadLetter('b', 'j1', 'g')).toBe(true);
    expect(await counters.replaceDeadLetter('b', 'j1', 'passed', 'g')).toBe(false);
    expect((await counters.recordResult('b', 'j1', 'passed', 'g')).firstTime).toBe(true);
    const p = await counters.progress('b');
    expect(p.done).toBe(1);
    expect(p.outcomes).toMatchObject({ 'outcome:passed': 1, 'outcome:dead_lettered': 0, 'group:g:dead_lettered': 0 });
  });

  it('takes a job back once, and never one whose outcome is not dead_lettered', async () => {
    await counters.setTotal('c', 2);
    await counters.recordResult('c', 'ok', 'passed');
    await counters.recordResult('c', 'dl', DEAD_LETTERED);
    expect(await counters.reopenDeadLetter('c', 'ok')).toBe(false);
    expect(await counters.reopenDeadLetter('c', 'dl')).toBe(true);
    expect(await counters.reopenDeadLetter('c', 'dl')).toBe(false);
    const p = await counters.progress('c');
    expect(p.done).toBe(1);
    expect(p.outcomes).toEqual({ 'outcome:passed': 1, 'outcome:dead_lettered': 0 });
  });

  it('reopenJob keeps a real result that replaced the dead letter after reopenJob read it', async () => {
    const registry = new KindRegistry([]);
    const key = runKeys.result('d', 'j1');
    await deadLettered('d', ['j1']);
    await putJson(store, key, storedResult('d', DEAD_LETTERED));
    // The aggregator's replacement lands between reopenJob's read and its next step.
    const racing: ArtifactStore = Object.create(store);
    racing.getOptional = async (k: string) => {
      const body = await store.getOptional(k);
      await putJson(store, key, storedResult('d', 'passed'));
      await counters.replaceDeadLetter('d', 'j1', 'passed');
      return body;
    };
    expect(await reopenJob('d', 'j1', { store: racing, counters, registry })).toBe(false);
    expect(JSON.parse((await store.get(key)).toString('utf8'))).toMatchObject({ outcome: 'passed' });
    const p = await counters.progress('d');
    expect(p.done).toBe(1);
    expect(p.outcomes).toMatchObject({ 'outcome:passed': 1, 'outcome:dead_lettered': 0 });
  });

  it('a result listed by a finalize and then taken back by a requeue is left out, not a failure', async () => {
    const registry = new KindRegistry([]);
    await deadLettered('f', ['j1', 'j2']);
    await putJson(store, runKeys.result('f', 'j1'), storedResult('f', DEAD_LETTERED));
    await putJson(store, runKeys.result('f', 'j2'), { ...storedResult('f', 'passed'), jobId: 'j2' });
    // The requeue re-opens j1 between the finalize's listing and its reads.
    const racing: ArtifactStore = Object.create(store);
    racing.list = async function* (prefix: string) {
      const keys: string[] = [];
      for await (const key of store.list(prefix)) keys.push(key);
      expect(await reopenJob('f', 'j1', { store, counters, registry })).toBe(true);
      yield* keys;
    };
    const results = await loadResults('f', racing);
    expect(results.map((r) => [r.jobId, r.outcome])).toEqual([['j2', 'passed']]);
  });

  it('reopenJob takes back a dead letter whose counters Redis lost (a rebuild then finds it gone)', async () => {
    const registry = new KindRegistry([]);
    const key = runKeys.result('e', 'j1');
    await putJson(store, key, storedResult('e', DEAD_LETTERED));
    expect(await reopenJob('e', 'j1', { store, counters, registry })).toBe(true);
    expect(await store.exists(key)).toBe(false);
  });
});
