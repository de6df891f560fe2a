import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { makeEnvelope, type Envelope } from '../messages/index.js';
import { createMetrics } from '../metrics/index.js';
import {
  closeConnectionNamed,
  connectTest,
  deleteNamespace,
  queueDepth,
  rabbitUrl,
  testTypes,
  uniqueNamespace,
  waitFor,
  withRawChannel,
} from '../../../test/support/rabbit.js';
import { RetryableError } from '../errors/index.js';
import { createLogger } from '../logger/index.js';
import { connectBroker, dlqInspect, type BrokerConnection, type BrokerOptions } from './index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(
  label: string,
  overrides: Partial<BrokerOptions> = {},
): Promise<{ ns: string; conn: BrokerConnection }> {
  const ns = uniqueNamespace(label);
  cleanups.push(() => deleteNamespace(ns));
  const conn = await connectTest(ns, overrides);
  cleanups.push(() => conn.close({ drainTimeoutMs: 1_000 }));
  return { ns, conn };
}

function job(n: number): Envelope {
  return makeEnvelope({
    type: testTypes.work.type,
    runId: 'run-r',
    jobId: `job-${n}`,
    kind: 'echo',
    stage: 'generate',
    payload: { n },
  });
}

describe('connection recovery', () => {
  it('processes every confirmed message at least once when the broker drops the connection mid-stream', async () => {
    const metrics = createMetrics({ service: 'test', defaultMetrics: false });
    const { conn } = await setup('midstream', { metrics });
    const processed = new Set<string>();
    let handled = 0;
    await conn.consume({
      stage: 'generate',
      concurrency: 5,
      handler: async (env) => {
        await new Promise((r) => setTimeout(r, 2));
        processed.add(env.jobId);
        handled++;
      },
    });
    const reconnected = once(conn, 'connected');
    const total = 300;
    const publishes: Promise<string>[] = [];
    let killed: Promise<number> | undefined;
    for (let i = 0; i < total; i++) {
      publishes.push(conn.publisher.send(job(i)).then(() => `job-${i}`));
      if (i % 20 === 19) await Promise.allSettled(publishes.slice(-20));
      if (!killed && handled >= 40) killed = closeConnectionNamed(conn.connectionName);
    }
    killed ??= closeConnectionNamed(conn.connectionName);
    expect(await killed).toBe(1);
    const results = await Promise.allSettled(publishes);
    const confirmed = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(confirmed).toHaveLength(total);
    const [info] = (await reconnected) as [{ generation: number; reconnect: boolean }];
    expect(info).toMatchObject({ reconnect: true });
    await waitFor('every confirmed job processed', () => confirmed.every((id) => processed.has(id)), 20_000);
    expect(conn.generation()).toBeGreaterThanOrEqual(2);
    expect(conn.isConnected()).toBe(true);
    expect(await metrics.registry.getSingleMetricAsString('evalfleet_broker_reconnects_total')).toMatch(/} 1$/m);
  });

  it('drops the ack of a delivery whose channel has closed, and the broker redelivers it', async () => {
    const { ns, conn } = await setup('stale');
    const deliveries: { jobId: string; redelivered: boolean; count: number; generation: number }[] = [];
    await conn.consume({
      stage: 'generate',
      handler: async (env, ctx) => {
        deliveries.push({
          jobId: env.jobId,
          redelivered: ctx.redelivered,
          count: ctx.deliveryCount,
          generation: conn.generation(),
        });
        if (deliveries.length === 1) {
          const reconnected = once(conn, 'connected');
          await closeConnectionNamed(conn.connectionName);
          await reconnected;
          // Returning normally now: the consumer must not ack on the new channel.
        }
      },
    });
    await conn.publisher.send(job(1));
    await waitFor('redelivery', () => deliveries.length >= 2);
    expect(deliveries[1]).toMatchObject({ jobId: 'job-1', redelivered: true, count: 1 });
    expect(deliveries[1]!.generation).toBeGreaterThan(deliveries[0]!.generation);
    // The new channel survived (a stale delivery tag would have closed it): later work flows.
    await conn.publisher.send(job(2));
    await waitFor('next job', () => deliveries.some((d) => d.jobId === 'job-2'));
    await waitFor('queue drained', async () => conn.inFlight() === 0 && (await queueDepth(`${ns}.generate`)) === 0);
    expect(deliveries.filter((d) => d.jobId === 'job-1')).toHaveLength(2);
  });

  it('re-subscribes when the broker cancels the consumer (queue deleted)', async () => {
    const { ns, conn } = await setup('cancel');
    const seen: string[] = [];
    const consumer = await conn.consume({
      stage: 'generate',
      handler: (env) => {
        seen.push(env.jobId);
        return Promise.resolve();
      },
    });
    const cancelled = once(conn, 'consumer-cancelled');
    await withRawChannel((ch) => ch.deleteQueue(`${ns}.generate`));
    expect(await cancelled).toEqual([{ stage: 'generate' }]);
    await waitFor('re-subscribed', () => consumer.isConsuming());
    await conn.publisher.send(job(3));
    await waitFor('delivery after re-subscribe', () => seen.includes('job-3'));
  });

  it('dead-letters a poison message after the quorum delivery limit', async () => {
    const { ns, conn } = await setup('poison', { deliveryLimit: 2 });
    const counts: number[] = [];
    await conn.consume({
      stage: 'generate',
      handler: async (_env, ctx) => {
        counts.push(ctx.deliveryCount);
        // Simulate a worker that dies on this message before it can ack: its connection goes away.
        await closeConnectionNamed(conn.connectionName);
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      },
    });
    await conn.publisher.send(job(13));
    await waitFor('poison message in the DLQ', async () => (await queueDepth(`${ns}.generate.dlq`)) === 1, 20_000);
    expect(counts).toEqual([0, 1, 2]);
    const [dead] = await dlqInspect(conn, ns, 'generate');
    expect(dead).toMatchObject({ code: 'delivery_limit', jobId: 'job-13', routingKey: 'stage.generate' });
    expect(await queueDepth(`${ns}.generate`)).toBe(0);
  });

  it('makes a publish wait for the reconnect, and fail as broker_unavailable past its timeout', async () => {
    const { ns, conn } = await setup('pubwait');
    const gen0 = conn.generation();
    const lost = once(conn, 'disconnected');
    await closeConnectionNamed(conn.connectionName);
    await lost;
    const tooShort = conn.publisher.send(job(1), { timeoutMs: 1 });
    await expect(tooShort).rejects.toMatchObject({ code: 'broker_unavailable' });
    expect(conn.isConnected()).toBe(false);
    await conn.publisher.send(job(2));
    expect(conn.isConnected()).toBe(true);
    expect(conn.generation()).toBeGreaterThan(gen0);
    expect(await queueDepth(`${ns}.generate`)).toBe(1);
  });

  it('fails connectBroker with broker_unavailable and never logs the password', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      { service: 'test' },
      { level: 'debug', destination: { write: (s: string) => void lines.push(s) } },
    );
    const url = rabbitUrl.replace(/\/\/([^:]+):([^@]+)@([^:/]+):\d+/, '//$1:sup3rsecret@$3:1');
    const err = await connectBroker({
      url,
      namespace: uniqueNamespace('down'),
      logger,
      connectTimeoutMs: 400,
      reconnectBackoff: { baseMs: 20, capMs: 50 },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as RetryableError).code).toBe('broker_unavailable');
    expect((err as Error).message).not.toContain('sup3rsecret');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain('sup3rsecret');
  });
});
