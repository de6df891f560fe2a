import { afterEach, describe, expect, it } from 'vitest';
import { makeEnvelope, type Envelope } from '../messages/index.js';
import {
  connectTest,
  deleteNamespace,
  queueDepth,
  testTypes,
  uniqueNamespace,
  waitFor,
  withRawChannel,
} from '../../../test/support/rabbit.js';
import { deadLetterHeaders, FailureHeaders, readHistory } from './headers.js';
import { dlqInspect, dlqList, dlqPurge, dlqRequeue, type BrokerConnection } from './index.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(label: string): Promise<{ ns: string; conn: BrokerConnection }> {
  const ns = uniqueNamespace(label);
  cleanups.push(() => deleteNamespace(ns));
  const conn = await connectTest(ns);
  cleanups.push(() => conn.close({ drainTimeoutMs: 1_000 }));
  return { ns, conn };
}

function job(n: number, attempt = 3): Envelope {
  return makeEnvelope({
    type: testTypes.work.type,
    runId: 'run-d',
    jobId: `job-${n}`,
    kind: 'echo',
    stage: 'generate',
    payload: { n },
    attempt,
  });
}

/** Put dead letters straight into the generate DLQ, as the consumer would. */
async function seed(
  conn: BrokerConnection,
  ns: string,
  count: number,
  code = 'over_limit',
  failedAt = new Date(),
  from = 0,
): Promise<void> {
  const batch: Promise<void>[] = [];
  for (let i = from; i < from + count; i++) {
    const headers = deadLetterHeaders(
      { app: 'kept' },
      {
        failure: { code, message: `failure ${code}` },
        stage: 'generate',
        attempts: 3,
        routingKey: 'stage.generate',
        now: failedAt,
      },
    );
    batch.push(conn.publisher.publish('stage.generate', job(i), { exchange: 'dlx', headers }));
  }
  await Promise.all(batch);
  await waitFor(`${count} dead letters`, async () => (await queueDepth(`${ns}.generate.dlq`)) >= count);
}

/** Take everything out of a queue (acking it) and return envelopes with headers. */
async function takeAll(queue: string): Promise<{ env: Envelope; headers: Record<string, unknown> }[]> {
  return withRawChannel(async (ch) => {
    const out: { env: Envelope; headers: Record<string, unknown> }[] = [];
    for (let m = await ch.get(queue, { noAck: true }); m; m = await ch.get(queue, { noAck: true })) {
      out.push({ env: JSON.parse(m.content.toString()) as Envelope, headers: m.properties.headers ?? {} });
    }
    return out;
  });
}

describe('dead-letter queue operations', () => {
  it('lists depths and the oldest dead letter age, and inspects without consuming', async () => {
    const { ns, conn } = await setup('dlqlist');
    await seed(conn, ns, 4, 'over_limit', new Date(Date.now() - 60_000));
    await conn.publisher.send(job(100, 1));
    const stats = await dlqList(conn, ns);
    const gen = stats.find((s) => s.stage === 'generate');
    expect(gen).toMatchObject({
      queue: `${ns}.generate`,
      dlq: `${ns}.generate.dlq`,
      dlqDepth: 4,
      workDepth: 1,
      workConsumers: 0,
    });
    expect(gen?.oldestAgeMs).toBeGreaterThanOrEqual(60_000);
    expect(gen?.oldestAgeMs).toBeLessThan(120_000);
    expect(stats.find((s) => s.stage === 'evaluate')).toMatchObject({ dlqDepth: 0, oldestAgeMs: null });

    const inspected = await dlqInspect(conn, ns, 'generate', { limit: 3 });
    expect(inspected).toHaveLength(3);
    expect(inspected[0]).toMatchObject({
      code: 'over_limit',
      message: 'failure over_limit',
      stage: 'generate',
      attempts: 3,
      runId: 'run-d',
      type: testTypes.work.type,
      routingKey: 'stage.generate',
      requeuedCount: 0,
    });
    expect(inspected[0]?.sizeBytes).toBeGreaterThan(100);
    expect(inspected[0]?.headers).toHaveProperty('app', 'kept');
    // Still there: inspecting hands every message back.
    await waitFor('messages back in the DLQ', async () => (await queueDepth(`${ns}.generate.dlq`)) === 4);
  });

  it('requeues matching messages once with attempt 1 and history, leaving the others in place', async () => {
    const { ns, conn } = await setup('dlqfilter');
    await seed(conn, ns, 3, 'over_limit');
    await seed(conn, ns, 3, 'schema_violation', new Date(), 3);
    await waitFor('six dead letters', async () => (await queueDepth(`${ns}.generate.dlq`)) === 6);

    const result = await dlqRequeue(conn, ns, 'generate', { filterCode: 'over_limit' });
    expect(result).toEqual({ moved: 3, skipped: 3 });
    await waitFor('skipped ones back', async () => (await queueDepth(`${ns}.generate.dlq`)) === 3);
    expect((await dlqInspect(conn, ns, 'generate', { limit: 10 })).map((d) => d.code)).toEqual(
      Array(3).fill('schema_violation'),
    );

    const moved = await takeAll(`${ns}.generate`);
    expect(moved.map((m) => m.env.jobId).sort()).toEqual(['job-0', 'job-1', 'job-2']);
    for (const m of moved) {
      expect(m.env.attempt).toBe(1);
      expect(m.headers[FailureHeaders.requeuedCount]).toBe(1);
      expect(m.headers[FailureHeaders.attempt]).toBe(1);
      expect(m.headers).not.toHaveProperty(FailureHeaders.errorCode);
      expect(m.headers.app).toBe('kept');
      expect(readHistory(m.headers).map((h) => [h.action, h.code])).toEqual([
        ['dead_letter', 'over_limit'],
        ['requeue', 'over_limit'],
      ]);
    }

    expect(await dlqRequeue(conn, ns, 'generate', { limit: 2 })).toEqual({ moved: 2, skipped: 0 });
    expect(await dlqPurge(conn, ns, 'generate')).toBe(1);
    expect(await queueDepth(`${ns}.generate.dlq`)).toBe(0);
  });

  it('moves each message exactly once when two requeues run at the same time', async () => {
    const { ns, conn } = await setup('dlqrace');
    const other = await connectTest(ns);
    cleanups.push(() => other.close());
    const total = 200;
    await seed(conn, ns, total);

    // Different batch sizes so the two loops interleave at different rhythms.
    const [a, b] = await Promise.all([
      dlqRequeue(conn, ns, 'generate'),
      dlqRequeue(other, ns, 'generate', { batchSize: 7 }),
    ]);
    expect(a.moved + b.moved).toBe(total);
    expect(a.moved).toBeGreaterThan(0);
    expect(b.moved).toBeGreaterThan(0);
    expect(await queueDepth(`${ns}.generate.dlq`)).toBe(0);

    const moved = await takeAll(`${ns}.generate`);
    const ids = moved.map((m) => m.env.jobId);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    // And none came back: an ack the broker dropped when the channel closed would put its message
    // back in the DLQ a moment later (a duplicate for the next requeue).
    expect(await queueDepth(`${ns}.generate.dlq`)).toBe(0);
  });
});
