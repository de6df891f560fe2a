import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../errors/index.js';
import type { Envelope } from '../messages/index.js';
import { createMetrics } from '../metrics/index.js';
import { BrokerScope, queueDepth, testJob, waitFor, withRawChannel } from '../../../test/support/rabbit.js';
import { BATCH_CONTENT_TYPE, chunkBatches, isBatchBody } from './batch.js';
import { dlqInspect, type HandlerContext } from './index.js';

const scope = new BrokerScope();
afterEach(() => scope.cleanup());
const setup = (label: string, overrides = {}) => scope.setup(label, overrides);
const job = testJob;

type Seen = { env: Envelope; ctx: HandlerContext };
const modeOf = (env: Envelope) => (env.payload as { mode: string }).mode;
const publishedMessages = async (metrics: ReturnType<typeof createMetrics>) => {
  const text = await metrics.registry.getSingleMetricAsString('evalfleet_published_total');
  return Number(/role="work",outcome="confirmed"[^}]*} (\d+)/.exec(text)?.[1] ?? 0);
};

describe('batch messages', () => {
  it('cuts envelopes into batches by count and size, and tells a batch body from an envelope', () => {
    const envs = Array.from({ length: 7 }, (_, i) => job(i));
    const byCount = chunkBatches(envs, 3, 1 << 20);
    expect(byCount.map((c) => c.envs.length)).toEqual([3, 3, 1]);
    // Each body is the JSON array of its envelopes, in order.
    expect(byCount.flatMap((c) => JSON.parse(c.body.toString('utf8')) as unknown[])).toEqual(envs);
    for (const c of byCount) expect(isBatchBody(c.body)).toBe(true);
    const one = Buffer.byteLength(JSON.stringify(envs[0]));
    // Room for two envelopes (and the array's brackets and commas), not three.
    const bySize = chunkBatches(envs, 100, 2 * one + 10);
    expect(bySize.map((c) => c.envs.length)).toEqual([2, 2, 2, 1]);
    for (const c of bySize) expect(c.body.length).toBeLessThanOrEqual(2 * one + 10);
    expect(isBatchBody(Buffer.from(' \n[{"a":1}]'))).toBe(true);
    expect(isBatchBody(Buffer.from('{"a":[1]}'))).toBe(false);
    expect(isBatchBody(Buffer.from(''))).toBe(false);
  });

  it('handles every item once and publishes what a batch emitted as one batch, before the ack', async () => {
    const metrics = createMetrics({ service: 'test', defaultMetrics: false });
    const { ns, conn } = await setup('batch-emit', { metrics });
    const seen: Seen[] = [];
    await conn.consume({
      stage: 'generate',
      concurrency: 2,
      handler: (env, ctx) => {
        seen.push({ env, ctx });
        // Each first-round job emits its next message the way a kind's handler does (host.ts).
        if (modeOf(env) === 'ok') ctx.collect?.({ ...job(100 + (env.payload as { n: number }).n, 'next') });
        return Promise.resolve();
      },
    });
    await conn.publisher.sendMany(
      Array.from({ length: 6 }, (_, i) => job(i)),
      3,
    );
    await waitFor('12 jobs handled', () => seen.length >= 12);
    await waitFor('settled', async () => conn.inFlight() === 0 && (await queueDepth(`${ns}.generate`)) === 0);
    const first = seen.filter((s) => modeOf(s.env) === 'ok');
    const next = seen.filter((s) => modeOf(s.env) === 'next');
    expect(first.map((s) => s.env.jobId).sort()).toEqual(['job-0', 'job-1', 'job-2', 'job-3', 'job-4', 'job-5']);
    expect(next.map((s) => s.env.jobId).sort()).toEqual([
      'job-100',
      'job-101',
      'job-102',
      'job-103',
      'job-104',
      'job-105',
    ]);
    // Items of a batch: a collector, a first delivery.
    expect(first.every((s) => typeof s.ctx.collect === 'function' && s.ctx.deliveryCount === 0)).toBe(true);
    // Two input batches of 3, then each batch's three next messages as one batch: 4 messages for 12 jobs.
    expect(await publishedMessages(metrics)).toBe(4);
    expect(await queueDepth(`${ns}.generate.dlq`)).toBe(0);
  });

  it('retries and dead-letters an item alone, and acks its batch-mates once', async () => {
    const { ns, conn } = await setup('batch-outcomes');
    const seen: Seen[] = [];
    await conn.consume({
      stage: 'generate',
      concurrency: 4,
      handler: (env, ctx) => {
        seen.push({ env, ctx });
        if (modeOf(env) === 'permanent') return Promise.reject(new PermanentError('over_limit', 'input too large'));
        if (modeOf(env) === 'flaky' && env.attempt === 1)
          return Promise.reject(new RetryableError('upstream_5xx', 'bad gateway'));
        return Promise.resolve();
      },
    });
    // A fourth item whose payload breaks its type's schema: it alone is dead-lettered, undecodable.
    const bad = { ...job(4), payload: { n: 'four' } };
    const body = Buffer.from(JSON.stringify([job(1), job(2, 'permanent'), job(3, 'flaky'), bad]));
    await withRawChannel(async (ch) => {
      ch.publish(`${ns}.work`, 'stage.generate', body, { contentType: BATCH_CONTENT_TYPE, persistent: true });
      await ch.close();
    });
    await waitFor('two dead letters', async () => (await queueDepth(`${ns}.generate.dlq`)) === 2);
    await waitFor('the flaky item retried', () => seen.some((s) => s.env.jobId === 'job-3' && s.env.attempt === 2));
    await waitFor('settled', async () => conn.inFlight() === 0 && (await queueDepth(`${ns}.generate`)) === 0);
    const calls = (id: string) => seen.filter((s) => s.env.jobId === id).map((s) => s.env.attempt);
    expect(calls('job-1')).toEqual([1]);
    expect(calls('job-2')).toEqual([1]);
    expect(calls('job-3')).toEqual([1, 2]);
    expect(calls('job-4')).toEqual([]);
    // The retry came back as a message of its own (no collector: not an item of a batch).
    expect(seen.find((s) => s.env.attempt === 2)?.ctx.collect).toBeUndefined();
    const dead = await dlqInspect(conn, ns, 'generate', { limit: 10 });
    const byCode = Object.fromEntries(dead.map((d) => [d.code, d]));
    expect(Object.keys(byCode).sort()).toEqual(['over_limit', 'schema_violation']);
    // Each dead letter is its item alone, an envelope the DLQ tools read like any other.
    expect(byCode.over_limit).toMatchObject({ jobId: 'job-2', attempts: 1, message: 'input too large' });
    expect(byCode.schema_violation).toMatchObject({ jobId: 'job-4' });
  });

  it('splits a batch delivered a second time into single messages before handling any item again', async () => {
    const { ns, conn } = await setup('batch-split');
    const body = Buffer.from(JSON.stringify([job(1), job(2), job(3)]));
    await withRawChannel(async (ch) => {
      ch.publish(`${ns}.work`, 'stage.generate', body, { contentType: BATCH_CONTENT_TYPE, persistent: true });
      // A consumer that took the batch and died: the broker hands it back, redelivered.
      await waitFor('the batch queued', async () => (await queueDepth(`${ns}.generate`)) === 1);
      const taken = await ch.get(`${ns}.generate`, { noAck: false });
      if (!taken) throw new Error('the batch was not there');
      ch.nack(taken, false, true);
      await ch.close();
    });
    const seen: Seen[] = [];
    await conn.consume({
      stage: 'generate',
      concurrency: 2,
      handler: (env, ctx) => {
        seen.push({ env, ctx });
        return Promise.resolve();
      },
    });
    await waitFor('three jobs handled', () => seen.length >= 3);
    await waitFor('settled', async () => conn.inFlight() === 0 && (await queueDepth(`${ns}.generate`)) === 0);
    expect(seen.map((s) => s.env.jobId).sort()).toEqual(['job-1', 'job-2', 'job-3']);
    // Each came as a single message, first delivery of its own, with the broker's headers left behind.
    for (const s of seen) {
      expect(s.ctx.collect).toBeUndefined();
      expect(s.ctx.redelivered).toBe(false);
      expect(s.ctx.deliveryCount).toBe(0);
    }
  });

  it('hands a dead-lettered batch to a dead-letter feed item by item, with the dead letter’s headers', async () => {
    const { ns, conn } = await setup('batch-feed');
    const seen: { env: Envelope; reason: unknown }[] = [];
    await conn.consume({
      stage: 'generate',
      queue: `${ns}.deadletters`,
      concurrency: 2,
      onPermanent: 'drop',
      // A feed's decode sees each item's bytes with the dead letter's headers (as the aggregator's does).
      decode: (content, headers) => {
        const env = JSON.parse(content.toString('utf8')) as Envelope;
        seen.push({ env, reason: headers['x-evalfleet-error-code'] });
        return env;
      },
      handler: () => Promise.resolve(),
    });
    const body = Buffer.from(JSON.stringify([job(1), job(2), job(3)]));
    await withRawChannel(async (ch) => {
      // The broker dead-letters a whole batch only past the delivery limit; publish one to the DLX as such.
      ch.publish(`${ns}.dlx`, 'stage.generate', body, {
        contentType: BATCH_CONTENT_TYPE,
        persistent: true,
        headers: { 'x-evalfleet-error-code': 'delivery_limit' },
      });
      await ch.close();
    });
    await waitFor('three items from the feed', () => seen.length >= 3);
    await waitFor('feed settled', async () => conn.inFlight() === 0 && (await queueDepth(`${ns}.deadletters`)) === 0);
    expect(seen.map((s) => s.env.jobId).sort()).toEqual(['job-1', 'job-2', 'job-3']);
    expect(seen.every((s) => s.reason === 'delivery_limit')).toBe(true);
    // Not split back onto the stage's queue: a feed consumes copies.
    expect(await queueDepth(`${ns}.generate`)).toBe(0);
  });
});
