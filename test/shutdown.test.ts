// Graceful shutdown of a real service process: SIGTERM while a handler is mid-way lets it
// finish (every job of the run is published, the request is acked), then the process exits
// with 128 + 15 within its deadline.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeEnvelope } from '../shared/src/messages/index.js';
import { runKeys } from '../shared/src/runs/index.js';
import { connectTest, queueDepth, queuedJobs, waitFor } from './support/rabbit.js';
import { testFleetEnv, type TestFleetEnv } from './support/fleet.js';

let fleetEnv: TestFleetEnv | undefined;
afterEach(async () => {
  await fleetEnv?.cleanup();
  fleetEnv = undefined;
});

describe('service shutdown', () => {
  it('SIGTERM drains the in-flight expansion and exits 143 within the deadline', async () => {
    fleetEnv = await testFleetEnv('sigterm', { SHUTDOWN_TIMEOUT_MS: '60000' });
    const { env, ns, store } = fleetEnv;
    const client = await connectTest(ns, { delayTiersMs: undefined, deliveryLimit: undefined });
    try {
      const child = spawn(process.execPath, [path.resolve('services/producer/dist/bin.js')], {
        env: { ...env, PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      const count = 4000;
      const runId = 'sigterm-run';
      await client.publisher.send(
        makeEnvelope({
          type: 'run.requested',
          runId,
          jobId: `${runId}:request`,
          kind: 'echo',
          stage: 'produce',
          payload: { kind: 'echo', spec: { count, text: 'x' } },
        }),
      );
      // run.json is written just before the first job is published: the handler is in flight.
      await waitFor('expansion started', () => store.getOptional(runKeys.record(runId)), 30_000);
      const sentAt = Date.now();
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(143);
      expect(Date.now() - sentAt).toBeLessThan(60_000);
      // Every job (in batch messages) and the finalize message reached the aggregate queue; the request was acked.
      expect(await queuedJobs(`${ns}.aggregate`)).toBe(count + 1);
      expect(await queueDepth(`${ns}.produce`)).toBe(0);
      expect(await queueDepth(`${ns}.produce.dlq`)).toBe(0);
    } finally {
      await client.close();
    }
  });
});
