// Redis faults on a redis-server of this file's own (never the machine's): restarted empty mid-run (the
// run's counters are rebuilt from the store, nothing counted twice) and unreachable for 30 s mid-run
// (handlers that need it fail, are retried through the delay queues, and finish once it is back).
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/rabbit.js';
import { FaultFleet, writeSamplesFile } from './support/fleet.js';
import { startOwnRedis, type OwnServer } from './support/servers.js';

const jobs = 18;
let redis: (OwnServer & { wipe(): Promise<void> }) | undefined;
let fleet: FaultFleet | undefined;
let samples = '';

beforeAll(async () => {
  redis = await startOwnRedis();
  // The catalog's own delay tiers (1 s, 5 s, 30 s, ...): what lets a job outlive a 30 s outage.
  fleet = await FaultFleet.start({ label: 'redis', redisUrl: redis.url });
  samples = path.join(fleet.dir, 'samples.jsonl');
  await writeSamplesFile(samples, jobs);
  await fleet.ensure('producer', 'evaluator', 'aggregator');
  await fleet.submitSamples('baseline', samples);
  await fleet.waitCompleted('baseline');
}, 180_000);

afterAll(async () => {
  await fleet?.stop();
  await redis?.dispose();
}, 120_000);

beforeEach(async () => {
  if (redis!.pid() === undefined) await redis!.start();
}, 60_000);

async function expectWhole(runId: string) {
  const report = await fleet!.ledger(runId, 'baseline');
  expect(report.ok, `${report.diff}\n${report.ok ? '' : await fleet!.logTail()}`).toBe(true);
}

describe('redis faults', () => {
  it('the fault-free run is whole (the reference)', async () => {
    await expectWhole('baseline');
  });

  it(
    'Redis restarted empty mid-run: counters rebuilt from the store, nothing counted twice',
    { timeout: 120_000 },
    async () => {
      const f = fleet!;
      await f.submitSamples('redis-empty', samples);
      await waitFor('some results counted', async () => (await f.done('redis-empty')) >= 4, 60_000, 10);
      await redis!.stop('SIGKILL');
      await redis!.wipe();
      await redis!.start();
      expect(await f.redis.exists('run:redis-empty:total')).toBe(0);
      await f.waitCompleted('redis-empty');
      await expectWhole('redis-empty');
    },
  );

  it('Redis unreachable for 30 s mid-run', { timeout: 180_000 }, async () => {
    const f = fleet!;
    await f.submitSamples('redis-down', samples);
    await waitFor('some results counted', async () => (await f.done('redis-down')) >= 2, 60_000, 10);
    await redis!.stop('SIGTERM');
    // The outage's length is the scenario itself, not a wait for something to happen.
    await new Promise((r) => setTimeout(r, 30_000));
    await redis!.start();
    await f.waitCompleted('redis-down', 150_000);
    await expectWhole('redis-down');
  });
});
