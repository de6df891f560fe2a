// The spine end to end: a run of the smoke kind goes produce → aggregate through the real
// topology (quorum queues, confirms) and completes with every job counted exactly once.
import { afterEach, describe, expect, it } from 'vitest';
import { startAggregator } from '../services/aggregator/src/main.js';
import { startProducer } from '../services/producer/src/main.js';
import { makeEnvelope } from '../shared/src/messages/index.js';
import { runKeys } from '../shared/src/runs/index.js';
import { connectTest, waitFor } from './support/rabbit.js';
import { deleteRedisPrefix, testFleetEnv, type TestFleetEnv } from './support/fleet.js';

let fleetEnv: TestFleetEnv | undefined;
const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await fleetEnv?.cleanup();
  fleetEnv = undefined;
});

/** A producer and an aggregator in this process on a fresh namespace, and a client to publish with. */
async function startSpine(label: string) {
  fleetEnv = await testFleetEnv(label);
  const { env, artifactDir } = fleetEnv;
  const producer = await startProducer({ env, installSignals: false, cwd: artifactDir });
  stops.push(() => producer.shutdown());
  const aggregator = await startAggregator({ env, installSignals: false, cwd: artifactDir });
  stops.push(() => aggregator.shutdown());
  const client = await connectTest(fleetEnv.ns, { delayTiersMs: undefined, deliveryLimit: undefined });
  stops.push(() => client.close());
  return { ...fleetEnv, producer, aggregator, client };
}

const echoRun = (runId: string, count: number) =>
  makeEnvelope({
    type: 'run.requested',
    runId,
    jobId: `${runId}:request`,
    kind: 'echo',
    stage: 'produce',
    payload: { kind: 'echo', spec: { count, text: 'hi' } },
  });

describe('echo smoke pipeline', () => {
  it('completes a run with each job counted once, even when a job is delivered twice', async () => {
    const { store, producer, aggregator, client } = await startSpine('echo');
    const runId = 'echo-run-1';
    const request = echoRun(runId, 40);
    // A duplicate of one job, as a redelivery would produce, must not be counted twice.
    await client.publisher.send(
      makeEnvelope({
        type: 'job.result',
        runId,
        jobId: 'echo-7',
        kind: 'echo',
        stage: 'aggregate',
        payload: { kind: 'echo', outcome: 'ok', result: { index: 7, text: 'hi' } },
      }),
    );
    await client.publisher.send(request);

    const completed = await waitFor('run completed', () => store.getOptional(runKeys.completed(runId)), 30_000);
    const done = JSON.parse(completed.toString('utf8')) as { totalJobs: number; reports: Record<string, string> };
    expect(done.totalJobs).toBe(40);
    const summary = JSON.parse((await store.get(runKeys.report(runId, 'summary.json'))).toString('utf8')) as {
      results: number;
      outcomes: Record<string, number>;
    };
    expect(summary.results).toBe(40);
    expect(summary.outcomes).toEqual({ ok: 40 });
    const lines = (await store.get(runKeys.report(runId, 'results.jsonl'))).toString('utf8').trim().split('\n');
    expect(new Set(lines.map((l) => (JSON.parse(l) as { jobId: string }).jobId)).size).toBe(40);

    // Every service serves metrics and probes; each job is counted once in metrics too.
    const metrics = await (await fetch(`${aggregator.opsUrl}/metrics`)).text();
    expect(metrics).toMatch(/evalfleet_results_total\{[^}]*kind="echo"[^}]*outcome="ok"[^}]*\} 40/);
    expect(metrics).toMatch(/evalfleet_jobs_total\{[^}]*stage="aggregate"/);
    expect(metrics).toContain('process_cpu_user_seconds_total');
    expect((await fetch(`${aggregator.opsUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${producer.opsUrl}/healthz`)).status).toBe(200);
    const producerMetrics = await (await fetch(`${producer.opsUrl}/metrics`)).text();
    // The early duplicate of echo-7 may already be counted when the producer expands: then it is skipped.
    const record = JSON.parse((await store.get(runKeys.record(runId))).toString('utf8')) as { skippedJobs: number };
    expect(producerMetrics).toMatch(
      new RegExp(`evalfleet_jobs_published_total\\{[^}]*kind="echo"[^}]*\\} ${40 - record.skippedJobs}\n`),
    );
    await aggregator.shutdown();
    await expect(fetch(`${aggregator.opsUrl}/readyz`)).rejects.toThrow();
  });

  it('a run resubmitted after Redis lost its counters skips the jobs the store has results for', async () => {
    const { store, ns, producer, client } = await startSpine('echo-resume');
    const runId = 'echo-resume';
    await client.publisher.send(echoRun(runId, 30));
    await waitFor('run completed', () => store.getOptional(runKeys.completed(runId)), 30_000);
    // Redis restarted empty: the run's counters are gone, its results are in the store.
    await deleteRedisPrefix(`${ns}:`);
    await client.publisher.send(echoRun(runId, 30));
    const record = await waitFor(
      'run resumed and completed again',
      async () => {
        const body = await store.getOptional(runKeys.completed(runId));
        if (!body) return undefined;
        const r = JSON.parse((await store.get(runKeys.record(runId))).toString('utf8')) as {
          skippedJobs: number;
          updatedAt: string;
          createdAt: string;
        };
        return r.updatedAt !== r.createdAt ? r : undefined;
      },
      30_000,
    );
    expect(record.skippedJobs).toBe(30);
    const producerMetrics = await (await fetch(`${producer.opsUrl}/metrics`)).text();
    expect(producerMetrics).toMatch(/evalfleet_jobs_published_total\{[^}]*kind="echo"[^}]*\} 30\n/);
  });
});
