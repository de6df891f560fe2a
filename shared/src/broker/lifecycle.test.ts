import { afterEach, describe, expect, it } from 'vitest';
import { makeEnvelope } from '../messages/index.js';
import {
  connectTest,
  deleteNamespace,
  queueDepth,
  testTypes,
  uniqueNamespace,
  waitFor,
} from '../../../test/support/rabbit.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('graceful stop', () => {
  it('stopConsuming + drain lets in-flight work finish and takes nothing new', async () => {
    const ns = uniqueNamespace('drain');
    cleanups.push(() => deleteNamespace(ns));
    const conn = await connectTest(ns);
    cleanups.push(() => conn.close());

    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const started: string[] = [];
    const finished: string[] = [];
    const consumer = await conn.consume({
      stage: 'generate',
      concurrency: 3,
      handler: async (env) => {
        started.push(env.jobId);
        await gate;
        finished.push(env.jobId);
      },
    });
    for (let i = 0; i < 5; i++) {
      await conn.publisher.send(
        makeEnvelope({
          type: testTypes.work.type,
          runId: 'run-l',
          jobId: `job-${i}`,
          kind: 'echo',
          stage: 'generate',
          payload: { n: i },
        }),
      );
    }
    await waitFor('three in flight', () => conn.inFlight() === 3);

    await conn.stopConsuming();
    expect(consumer.isConsuming()).toBe(false);
    let drained = false;
    const draining = conn.drain(5_000).then(() => (drained = true));
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    release();
    await draining;
    expect(conn.inFlight()).toBe(0);
    expect(finished.sort()).toEqual(started.sort());
    expect(started).toHaveLength(3);
    // The in-flight three were acked on the kept channel; the other two wait in the queue.
    await waitFor('two left in the queue', async () => (await queueDepth(`${ns}.generate`)) === 2);
    expect(started).toHaveLength(3);
    await conn.close();
    expect(conn.state).toBe('closed');
    expect(conn.isConnected()).toBe(false);
  });
});
