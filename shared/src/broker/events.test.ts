import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { makeEnvelope, type Envelope } from '../messages/index.js';
import { createMetrics } from '../metrics/index.js';
import {
  closeConnectionNamed,
  connectTest,
  deleteNamespace,
  uniqueNamespace,
  waitFor,
} from '../../../test/support/rabbit.js';
import { queueDepths, recordQueueDepths, type BrokerConnection } from './index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function open(ns: string): Promise<BrokerConnection> {
  const conn = await connectTest(ns);
  cleanups.push(() => conn.close());
  return conn;
}

function completed(runId: string): Envelope {
  return makeEnvelope({
    type: 'run.completed',
    runId,
    jobId: runId,
    kind: 'echo',
    stage: 'aggregate',
    payload: { totalJobs: 1 },
  });
}

describe('run-level events', () => {
  it('publishes with nobody listening, and delivers to subscribers again after a reconnect', async () => {
    const ns = uniqueNamespace('events');
    cleanups.push(() => deleteNamespace(ns));
    const producer = await open(ns);
    const client = await open(ns);
    await producer.publisher.publishEvent('run.completed', completed('run-0'));

    const seen: { name: string; runId: string }[] = [];
    const sub = await client.subscribeEvents({
      events: ['run.*'],
      handler: (env, ctx) => void seen.push({ name: ctx.name, runId: env.runId }),
    });
    await producer.publisher.publishEvent('run.completed', completed('run-1'));
    await producer.publisher.publishEvent('other.thing', completed('run-x'));
    await waitFor('first event', () => seen.length >= 1);
    expect(seen).toEqual([{ name: 'run.completed', runId: 'run-1' }]);

    const back = once(client, 'connected');
    await closeConnectionNamed(client.connectionName);
    await back;
    expect(sub.isSubscribed()).toBe(true);
    await producer.publisher.publishEvent('run.completed', completed('run-2'));
    await waitFor('event after reconnect', () => seen.some((s) => s.runId === 'run-2'));
  });
});

describe('queue depths', () => {
  it('reports work, dead-letter and delay depths and feeds the gauge', async () => {
    const ns = uniqueNamespace('depths');
    cleanups.push(() => deleteNamespace(ns));
    const conn = await open(ns);
    for (let i = 0; i < 2; i++) {
      await conn.publisher.send(
        makeEnvelope({
          type: 'echo.job',
          runId: 'r',
          jobId: `j${i}`,
          kind: 'echo',
          stage: 'evaluate',
          payload: { index: i, text: 'x' },
        }),
      );
    }
    const metrics = createMetrics({ service: 'test', defaultMetrics: false });
    const depths = await recordQueueDepths(conn, metrics);
    expect(depths.stages.find((s) => s.stage === 'evaluate')).toEqual({
      stage: 'evaluate',
      work: 2,
      consumers: 0,
      deadLetters: 0,
    });
    expect(depths.delayed.map((d) => d.tierMs)).toEqual([200, 400]);
    expect(await metrics.registry.getSingleMetricAsString('evalfleet_queue_depth')).toMatch(
      /stage="evaluate",role="work"[^}]*} 2/,
    );
    const missing = await queueDepths(conn, uniqueNamespace('nothing-here'));
    expect(missing.stages[0]).toMatchObject({ work: null, deadLetters: null });
  });
});
