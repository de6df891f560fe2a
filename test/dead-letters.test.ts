// Every run reaches an end: a job whose message is dead-lettered (a validation error on its first
// delivery, a retryable failure on every attempt, a result that breaks its kind's schema) becomes
// its run's `dead_lettered` result; requeueing the dead letter re-opens the job, and when it
// finishes the reports are rebuilt and `run.completed` fires again. Runs through the real fleet
// with a kind defined outside the services (test/kinds/wordcount.ts), loaded by module specifier.
import { afterEach, describe, expect, it } from 'vitest';
import { makeEnvelope } from '../shared/src/messages/index.js';
import { runKeys } from '../shared/src/runs/index.js';
import { cli } from './support/cli.js';
import { startFleet, type TestFleet } from './support/fleet.js';
import { connectTest, queueDepth, waitFor } from './support/rabbit.js';

let fleet: TestFleet | undefined;
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  await fleet?.stop();
  fleet = undefined;
});

type Summary = { counted: string[]; deadLettered: { word: string; code: string }[]; letters: number };

/** Producer, generator (it hosts wordcount's `tally` stage) and aggregator, with the test kind loaded. */
async function startWordcountFleet(label: string) {
  fleet = await startFleet(label, {
    services: ['producer', 'generator', 'aggregator'],
    kinds: ['test/kinds/wordcount.ts'],
  });
  return fleet.fleetEnv;
}

describe('dead-lettered jobs end their run', () => {
  it(
    'validation error → DLQ at once; retryable on every attempt → DLQ after the last; the run completes; requeue re-opens it',
    { timeout: 120_000 },
    async () => {
      const { env, store, ns } = await startWordcountFleet('deadletter');
      const runId = 'wc-dead-1';
      const submitted = await cli(
        env,
        'submit',
        'wordcount',
        '--words',
        'apple,kiwi,fig,plum',
        '--fail-validation',
        'kiwi',
        '--fail-infra',
        'fig',
        '--run-id',
        runId,
        '--wait',
        '--json',
      );
      expect(submitted.code, submitted.err).toBe(0);
      const summary = JSON.parse(submitted.out) as Summary;
      expect(summary.counted.sort()).toEqual(['apple', 'plum']);
      expect(summary.deadLettered).toEqual([
        { word: 'fig', code: 'attempts_exhausted' },
        { word: 'kiwi', code: 'schema_violation' },
      ]);

      // The dead letters stay in the stage's DLQ for inspection: the validation error on its first delivery.
      const inspected = await cli(env, 'dlq', 'inspect', 'tally', '--json');
      const letters = JSON.parse(inspected.out) as { jobId: string; code: string; attempts: number }[];
      expect(letters.map((l) => [l.jobId, l.code, l.attempts]).sort()).toEqual([
        ['word/fig', 'attempts_exhausted', 2],
        ['word/kiwi', 'schema_violation', 1],
      ]);

      // Progress by stage and outcome was recorded while it ran (workers write it in batches, a
      // moment after each step: poll until the last ones are in).
      const status = await waitFor('stage progress written', async () => {
        const s = await cli(env, 'status', runId);
        return /tally: counted 2/.test(s.out) ? s : undefined;
      });
      expect(status.out).toContain('completed, 4/4 jobs done');
      expect(status.out).toMatch(/stages\s+.*produce: published 4/);
      expect(status.out).toMatch(/tally: counted 2/);
      expect(status.out).toContain('2 job(s) dead-lettered');

      // Heal fig, requeue only the exhausted one: its run re-opens, then completes again with it counted.
      await store.put('test/heal/fig', 'ok');
      const requeued = await cli(env, 'dlq', 'requeue', 'tally', '--filter', 'attempts_exhausted', '--json');
      expect(JSON.parse(requeued.out)).toEqual({ moved: 1, skipped: 1, reopenedRuns: [runId] });
      const watched = await cli(env, 'watch', runId);
      expect(watched.code, watched.err).toBe(0);
      const again = JSON.parse((await store.get(runKeys.report(runId, 'summary.json'))).toString('utf8')) as Summary;
      expect(again.counted.sort()).toEqual(['apple', 'fig', 'plum']);
      expect(again.deadLettered).toEqual([{ word: 'kiwi', code: 'schema_violation' }]);
      expect(again.letters).toBe(5 + 3 + 4);
      expect(await queueDepth(`${ns}.tally.dlq`)).toBe(1);
      const finalStatus = JSON.parse((await cli(env, 'status', runId, '--json')).out) as {
        progress: { done: number; outcomes: Record<string, number> };
      };
      expect(finalStatus.progress.done).toBe(4);
      expect(finalStatus.progress.outcomes['outcome:counted']).toBe(3);
      expect(finalStatus.progress.outcomes['outcome:dead_lettered']).toBe(1);
    },
  );

  it(
    'a result that breaks its kind’s schema is permanent, when emitted or when decoded',
    { timeout: 60_000 },
    async () => {
      const { store, ns } = await startWordcountFleet('badresult');
      const runId = 'wc-bad-1';
      const client = await connectTest(ns, { delayTiersMs: undefined, deliveryLimit: undefined });
      stops.push(() => client.close());
      await client.publisher.send(
        makeEnvelope({
          type: 'run.requested',
          runId,
          jobId: `${runId}:request`,
          kind: 'wordcount',
          stage: 'produce',
          payload: { kind: 'wordcount', spec: { words: ['oak', 'elm', 'ash'], badResult: ['elm'] } },
        }),
      );
      // A forged result its kind's schema rejects at decode time (letters < 0), for a run that does
      // not exist: dead-lettered on the aggregate stage with the validation error as the reason.
      await client.publisher.send(
        makeEnvelope({
          type: 'job.result',
          runId: 'wc-ghost',
          jobId: 'word/ash',
          kind: 'wordcount',
          stage: 'aggregate',
          payload: { kind: 'wordcount', outcome: 'counted', result: { word: 'ash', letters: -3, upper: 'ASH' } },
        }),
      );
      const body = await waitFor('run completed', () => store.getOptional(runKeys.completed(runId)), 30_000);
      expect(JSON.parse(body.toString('utf8'))).toMatchObject({ status: 'completed', totalJobs: 3 });
      const summary = JSON.parse((await store.get(runKeys.report(runId, 'summary.json'))).toString('utf8')) as Summary;
      expect(summary.deadLettered).toEqual([{ word: 'elm', code: 'schema_violation' }]);
      expect(summary.counted.sort()).toEqual(['ash', 'oak']);
      expect(await queueDepth(`${ns}.aggregate.dlq`)).toBe(1);
      expect(await queueDepth(`${ns}.tally.dlq`)).toBe(1);
      await client.close();
    },
  );

  it(
    'a run whose request is dead-lettered ends failed, with the reason, and watch returns',
    { timeout: 60_000 },
    async () => {
      const { env, ns } = await startWordcountFleet('badrequest');
      const client = await connectTest(ns, { delayTiersMs: undefined, deliveryLimit: undefined });
      stops.push(() => client.close());
      const runId = 'solve-failed-1';
      // The dataset is not in the store: the producer cannot expand the run, whatever it retries.
      const missing = { key: 'datasets/missing.jsonl', size: 10, sha256: 'a'.repeat(64) };
      await client.publisher.send(
        makeEnvelope({
          type: 'run.requested',
          runId,
          jobId: `${runId}:request`,
          kind: 'solve',
          stage: 'produce',
          payload: { kind: 'solve', spec: { dataset: missing, models: ['fake-good'] } },
        }),
      );
      const watched = await cli(env, 'watch', runId);
      expect(watched.code).toBe(1);
      expect(watched.out).toMatch(/run solve-failed-1 failed: dataset_missing: dataset datasets\/missing.jsonl/);
      const status = await cli(env, 'status', runId);
      expect(status.out).toContain('solve-failed-1 (solve): failed');
      expect(await queueDepth(`${ns}.produce.dlq`)).toBe(1);
      await client.close();
    },
  );
});
