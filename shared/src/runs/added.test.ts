// Jobs added after a run's expansion (fan-out): counted once per adding job, in the store first, and kept
// when the total is set again from the store (a resume, or Redis losing the counters).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchRedisAndStore, type Scratch } from '../../../test/support/scratch.js';
import type { ArtifactStore } from '../storage/index.js';
import { addedJobs, addJobs, totalWith } from './added.js';
import { RunCounters } from './counters.js';

describe('added jobs', () => {
  let scratch: Scratch;
  let store: ArtifactStore;
  let counters: RunCounters;

  beforeAll(async () => {
    scratch = await scratchRedisAndStore('added');
    store = scratch.store;
    counters = new RunCounters(scratch.redis);
  });

  afterAll(() => scratch.cleanup());

  it('grows the total once per adding job, however often it is delivered', async () => {
    await counters.setTotal('r1', 2);
    await addJobs({ store, counters }, 'r1', 'p1', 3);
    await addJobs({ store, counters }, 'r1', 'p1', 3);
    await addJobs({ store, counters }, 'r1', 'p2', 4);
    expect(await counters.getTotal('r1')).toBe(9);
    expect(Object.fromEntries(await addedJobs('r1', store))).toEqual({ p1: 3, p2: 4 });
    expect(totalWith(2, await addedJobs('r1', store))).toBe(9);
  });

  it('keeps the first count a job added (a redelivery that computed another one does not change it)', async () => {
    await counters.setTotal('r2', 1);
    await addJobs({ store, counters }, 'r2', 'p1', 2);
    await addJobs({ store, counters }, 'r2', 'p1', 5);
    expect(await counters.getTotal('r2')).toBe(3);
  });

  it('counts a job once after the total was set again from the store', async () => {
    await counters.setTotal('r3', 1);
    await addJobs({ store, counters }, 'r3', 'p1', 2);
    // Redis lost everything; the store still has the marker.
    await counters.reset('r3');
    await counters.setTotalWithAdded('r3', 1, await addedJobs('r3', store));
    expect(await counters.getTotal('r3')).toBe(3);
    await addJobs({ store, counters }, 'r3', 'p1', 2);
    expect(await counters.getTotal('r3')).toBe(3);
  });

  it('counts a job whose marker was written but whose add never reached Redis', async () => {
    await counters.setTotal('r4', 1);
    await store.putIfAbsent('runs/r4/added/p1.json', JSON.stringify({ jobId: 'p1', count: 2 }));
    await addJobs({ store, counters }, 'r4', 'p1', 2);
    expect(await counters.getTotal('r4')).toBe(3);
  });

  it('leaves a missing total missing (the aggregator rebuilds it from the store)', async () => {
    await addJobs({ store, counters }, 'r5', 'p1', 2);
    expect(await counters.getTotal('r5')).toBeUndefined();
    expect(totalWith(1, await addedJobs('r5', store))).toBe(3);
  });

  it('refuses a negative or fractional count', async () => {
    await expect(addJobs({ store, counters }, 'r6', 'p1', -1)).rejects.toThrow(/cannot add/);
    await expect(addJobs({ store, counters }, 'r6', 'p1', 1.5)).rejects.toThrow(/cannot add/);
  });
});
