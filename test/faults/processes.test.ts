// The producer and the aggregator SIGKILLed mid-work and replaced, or drained by SIGTERM. The producer's
// broker traffic goes through a slow proxy so that its expansion (one confirmed publish per job) takes
// long enough to be interrupted; the services run as processes on the machine's broker and Redis (none
// of those is stopped here). The evaluator's and the aggregator-mid-report cases are in sandbox.test.ts
// and store.test.ts.
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runKeys } from '../../shared/src/runs/index.js';
import { queueDepth, rabbitUrl, waitFor } from '../support/rabbit.js';
import { FaultFleet, writeSamplesFile } from './support/fleet.js';
import { startSlowProxy, type SlowProxy } from './support/proxy.js';

const jobs = 12;
let fleet: FaultFleet | undefined;
let proxy: SlowProxy | undefined;
let samples = '';

beforeAll(async () => {
  fleet = await FaultFleet.start({ label: 'procs' });
  samples = path.join(fleet.dir, 'samples.jsonl');
  await writeSamplesFile(samples, jobs);
  proxy = await startSlowProxy(Number(new URL(rabbitUrl).port || 5672), 40);
  await fleet.ensure('producer', 'evaluator', 'aggregator');
  await fleet.submitSamples('baseline', samples);
  await fleet.waitCompleted('baseline');
}, 180_000);

afterAll(async () => {
  await fleet?.stop();
  await proxy?.close();
}, 120_000);

beforeEach(async () => {
  await fleet!.ensure('evaluator', 'aggregator');
}, 120_000);

async function expectWhole(runId: string) {
  const report = await fleet!.ledger(runId, 'baseline');
  expect(report.ok, `${report.diff}\n${report.ok ? '' : await fleet!.logTail()}`).toBe(true);
}

/**
 * A producer whose broker connection crawls (each chunk 40 ms late) and that publishes one job per message
 * and waits for each confirm before the next publish, the only producer running: its expansion lasts long
 * enough to be caught in the middle.
 */
async function slowProducer() {
  const f = fleet!;
  await f.stopAll('producer');
  const u = new URL(f.env.RABBITMQ_URL!);
  u.port = String(proxy!.port);
  return f.startService('producer', { RABBITMQ_URL: u.toString(), PRODUCER_PUBLISH_WINDOW: '1', PRODUCER_BATCH: '1' });
}

/** Poll until the expansion of `runId` has published some of its jobs but not all. */
async function midExpansion(runId: string) {
  const f = fleet!;
  await waitFor(
    'the expansion half-way',
    async () =>
      (await f.store.exists(runKeys.record(runId))) &&
      (await queueDepth(`${f.ns}.evaluate`)) + (await f.done(runId)) >= 2,
    60_000,
    10,
  );
}

const expansionFinished = async (runId: string) =>
  (await fleet!.redis.hget(`run:${runId}:stages`, 'produce:published')) !== null;

describe('service processes killed or drained mid-work', () => {
  it('the fault-free run is whole (the reference)', async () => {
    await expectWhole('baseline');
  });

  it('the producer SIGKILLed mid-expansion, a replacement expands the rest', { timeout: 120_000 }, async () => {
    const f = fleet!;
    const producer = await slowProducer();
    await f.submitSamples('producer-kill', samples);
    await midExpansion('producer-kill');
    await f.signal(producer, 'SIGKILL');
    expect(await expansionFinished('producer-kill')).toBe(false);
    await f.startService('producer');
    await f.waitCompleted('producer-kill');
    await expectWhole('producer-kill');
  });

  it(
    'the producer drained by SIGTERM mid-expansion: it publishes every job, then exits 143',
    { timeout: 120_000 },
    async () => {
      const f = fleet!;
      const producer = await slowProducer();
      await f.submitSamples('producer-term', samples);
      await midExpansion('producer-term');
      const [code] = await f.signal(producer, 'SIGTERM');
      expect(code).toBe(143);
      expect(await expansionFinished('producer-term')).toBe(true);
      // No producer runs now: the run completes on what the drained one published.
      await f.waitCompleted('producer-term');
      await expectWhole('producer-term');
    },
  );

  it('the aggregator SIGKILLed mid-run, a replacement counts the rest once', { timeout: 120_000 }, async () => {
    const f = fleet!;
    await f.ensure('producer');
    const [aggregator] = f.running('aggregator');
    await f.submitSamples('aggregator-kill', samples);
    await waitFor('some results counted', async () => (await f.done('aggregator-kill')) >= 3, 60_000, 10);
    await f.signal(aggregator!, 'SIGKILL');
    await f.startService('aggregator');
    await f.waitCompleted('aggregator-kill');
    await expectWhole('aggregator-kill');
  });

  it('the aggregator drained by SIGTERM mid-run (exit 143), a replacement finishes', { timeout: 120_000 }, async () => {
    const f = fleet!;
    await f.ensure('producer');
    const [aggregator] = f.running('aggregator');
    await f.submitSamples('aggregator-term', samples);
    await waitFor('some results counted', async () => (await f.done('aggregator-term')) >= 3, 60_000, 10);
    const [code] = await f.signal(aggregator!, 'SIGTERM');
    expect(code).toBe(143);
    await f.startService('aggregator');
    await f.waitCompleted('aggregator-term');
    await expectWhole('aggregator-term');
  });
});
