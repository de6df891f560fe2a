// Broker faults on a RabbitMQ node of this file's own (never the machine's shared one): connections
// closed, the broker restarted, the same message delivered twice, poison messages, a work queue
// deleted mid-run, a DLQ requeue during the run. Each scenario is a samples run (no model called)
// whose ledger must equal the fault-free run's.
import { appendFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { connect } from 'amqplib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FailureHeaders, topologyNames } from '../../shared/src/broker/index.js';
import { makeEnvelope } from '../../shared/src/messages/index.js';
import { loadResults } from '../../shared/src/runs/index.js';
import { cli } from '../support/cli.js';
import { waitFor } from '../support/rabbit.js';
import { FaultFleet, writeSamplesFile } from './support/fleet.js';
import { checkLedger, type DeadLetter, type LedgerOptions } from './support/ledger.js';
import { startOwnRabbit, type OwnServer } from './support/servers.js';

const jobs = 12;
const maxMessageBytes = 1024 * 1024;
let rabbit: (OwnServer & { rabbitmqctl(...args: string[]): Promise<string> }) | undefined;
let fleet: FaultFleet | undefined;
let samples = '';

beforeAll(async () => {
  // A 1 MiB message limit (RabbitMQ's default is 128 MiB) makes an oversized message cheap to build.
  rabbit = await startOwnRabbit('broker', { config: [`max_message_size = ${maxMessageBytes}`] });
  fleet = await FaultFleet.start({
    label: 'broker',
    rabbitUrl: rabbit.url,
    env: { BROKER_MAX_MESSAGE_BYTES: String(maxMessageBytes) },
  });
  samples = path.join(fleet.dir, 'samples.jsonl');
  await writeSamplesFile(samples, jobs);
  for (const name of ['producer', 'evaluator', 'aggregator'] as const) await fleet.startService(name);
  // The fault-free run every scenario's reports are compared with.
  await fleet.submitSamples('baseline', samples);
  await fleet.waitCompleted('baseline');
}, 180_000);

afterAll(async () => {
  await fleet?.stop();
  await rabbit?.dispose();
}, 120_000);

async function ledger(runId: string, extra: Partial<LedgerOptions> = {}) {
  const f = fleet!;
  const report = await checkLedger({
    store: f.store,
    redis: f.redis,
    rabbitUrl: rabbit!.url,
    ns: f.ns,
    runId,
    baselineRunId: 'baseline',
    ...extra,
  });
  expect(report.ok, `${report.diff}\n${report.ok ? '' : await f.logTail()}`).toBe(true);
  return report;
}

/** Poll until at least `n` jobs of the run are counted: the fault then lands mid-run. */
const midRun = (runId: string, n = 3) =>
  waitFor(`${n} jobs of ${runId} done`, async () => (await fleet!.done(runId)) >= n, 60_000, 20);

beforeEach(async () => {
  await fleet!.ensure('producer', 'evaluator', 'aggregator');
}, 120_000);

describe('broker faults', () => {
  it('the fault-free run is whole (the reference)', async () => {
    const report = await ledger('baseline');
    expect(report.jobs).toBe(jobs);
  });

  it('every connection closed by the broker mid-run', { timeout: 120_000 }, async () => {
    await fleet!.submitSamples('conn-closed', samples);
    await midRun('conn-closed');
    await rabbit!.rabbitmqctl('close_all_connections', 'fault test closes every connection');
    await fleet!.waitCompleted('conn-closed');
    await ledger('conn-closed');
  });

  it('the broker restarted mid-run (same data directory)', { timeout: 180_000 }, async () => {
    await fleet!.submitSamples('restart', samples);
    await midRun('restart');
    await rabbit!.stop('SIGTERM');
    await rabbit!.start();
    await fleet!.waitCompleted('restart', 150_000);
    await ledger('restart');
  });

  it('the same messages delivered twice: the run request and job results', { timeout: 120_000 }, async () => {
    const f = fleet!;
    await f.submitSamples('twice', samples);
    await midRun('twice', 2);
    // The same request again (same run id, job id and spec) while its jobs are in flight: the
    // producer publishes every job without a result a second time.
    await f.submitSamples('twice', samples);
    // And a copy of each result already recorded.
    const conn = await connect(rabbit!.url);
    try {
      const ch = await conn.createConfirmChannel();
      for (const r of await loadResults('twice', f.store)) {
        const env = makeEnvelope({
          type: 'job.result',
          runId: r.runId,
          jobId: r.jobId,
          kind: r.kind,
          stage: 'aggregate',
          payload: { kind: r.kind, outcome: r.outcome, result: r.result, artifacts: r.artifacts },
        });
        ch.publish(topologyNames(f.ns).exchanges.work, 'stage.aggregate', Buffer.from(JSON.stringify(env)), {
          persistent: true,
          contentType: 'application/json',
        });
      }
      await ch.waitForConfirms();
    } finally {
      await conn.close();
    }
    await f.waitCompleted('twice');
    await ledger('twice');
  });

  it(
    'poison messages (not JSON, unknown type) are dead-lettered; the run is untouched',
    { timeout: 120_000 },
    async () => {
      const f = fleet!;
      const names = topologyNames(f.ns);
      await f.submitSamples('poison', samples);
      const conn = await connect(rabbit!.url);
      try {
        const ch = await conn.createConfirmChannel();
        ch.publish(names.exchanges.work, 'stage.evaluate', Buffer.from('\x00\x01 not an envelope'), {
          persistent: true,
        });
        const stray = makeEnvelope({
          type: 'solve.nonexistent',
          runId: 'poison',
          jobId: 'poison/stray',
          kind: 'solve',
          stage: 'evaluate',
          payload: {},
        });
        ch.publish(names.exchanges.work, 'stage.evaluate', Buffer.from(JSON.stringify(stray)), { persistent: true });
        await ch.waitForConfirms();
      } finally {
        await conn.close();
      }
      try {
        await f.waitCompleted('poison');
        const report = await ledger('poison', {
          explainDeadLetter: (l: DeadLetter) =>
            (l.jobId === undefined && l.code === 'invalid_json') ||
            (l.jobId === 'poison/stray' && l.code === 'schema_violation')
              ? 'the poison message itself'
              : undefined,
        });
        expect(report.deadLetters.map((l) => l.jobId ?? '(bytes)').sort()).toEqual(['(bytes)', 'poison/stray']);
      } finally {
        // Later scenarios share the namespace: they must not find these letters.
        await cli(f.cliEnv, 'dlq', 'purge', 'evaluate', '--yes');
      }
    },
  );

  it(
    'a work queue deleted mid-run: redeclared, and `evalfleet resume` republishes what it held',
    { timeout: 120_000 },
    async () => {
      const f = fleet!;
      const [evaluator] = f.running('evaluator');
      // Fill the queue first (no evaluator), so the deletion surely drops ready messages.
      await f.signal(evaluator!, 'SIGTERM');
      await f.submitSamples('deleted', samples);
      const queue = topologyNames(f.ns).queue('evaluate');
      await waitFor(
        'jobs queued',
        async () => (await rabbit!.rabbitmqctl('list_queues', '-q', 'name', 'messages')).includes(queue),
        30_000,
        100,
      );
      await rabbit!.rabbitmqctl('delete_queue', queue);
      await f.startService('evaluator');
      // The services declare the queue again on their next (re)subscribe; what it held is gone from
      // the broker but not from the store: resume republishes every job without a result.
      const resumed = await cli(f.cliEnv, 'resume', 'deleted');
      expect(resumed.code, resumed.err).toBe(0);
      await f.waitCompleted('deleted');
      await ledger('deleted');
    },
  );

  it('a DLQ requeue while the run is in progress', { timeout: 120_000 }, async () => {
    const f = fleet!;
    const names = topologyNames(f.ns);
    await f.stopAll('evaluator');
    await f.submitSamples('requeue', samples);
    // Dead-letter three queued jobs exactly as a consumer does (each job alone to the DLX, with the reason
    // headers; the other jobs of a batch message go on as messages of their own): their runs record them
    // as dead_lettered at once.
    const conn = await connect(rabbit!.url);
    try {
      const ch = await conn.createConfirmChannel();
      let moved = 0;
      await waitFor(
        'three jobs dead-lettered',
        async () => {
          const msg = await ch.get(names.queue('evaluate'), { noAck: false });
          if (!msg) return false;
          const body: unknown = JSON.parse(msg.content.toString('utf8'));
          for (const job of Array.isArray(body) ? body : [body]) {
            const content = Buffer.from(JSON.stringify(job));
            if (moved >= 3) {
              ch.publish(names.exchanges.work, 'stage.evaluate', content, { persistent: true });
              continue;
            }
            ch.publish(names.exchanges.dlx, 'stage.evaluate', content, {
              persistent: true,
              contentType: 'application/json',
              headers: {
                [FailureHeaders.errorCode]: 'fault_injected',
                [FailureHeaders.errorMessage]: 'dead-lettered by the fault test',
                [FailureHeaders.stage]: 'evaluate',
                [FailureHeaders.attempts]: 1,
                [FailureHeaders.originalRoutingKey]: 'stage.evaluate',
              },
            });
            moved += 1;
          }
          await ch.waitForConfirms();
          ch.ack(msg);
          return moved >= 3;
        },
        30_000,
        50,
      );
    } finally {
      await conn.close();
    }
    await waitFor('dead letters recorded', async () => (await f.done('requeue')) >= 3, 30_000, 50);
    await f.startService('evaluator');
    const requeued = await cli(f.cliEnv, 'dlq', 'requeue', 'evaluate', '--filter', 'fault_injected', '--json');
    expect(requeued.code, requeued.err).toBe(0);
    expect(JSON.parse(requeued.out)).toMatchObject({ moved: 3 });
    await f.waitCompleted('requeue');
    // The requeued jobs finish with their real verdicts; run.completed may fire twice (it re-opened).
    await waitFor(
      'requeued jobs finished',
      async () => (await loadResults('requeue', f.store)).every((r) => r.outcome !== 'dead_lettered'),
      60_000,
      100,
    );
    await waitFor('reports rebuilt', async () => await f.store.exists('runs/requeue/completed.json'), 60_000, 100);
    await ledger('requeue');
  });

  it(
    'an oversized message: its job ends dead-lettered (message_too_large), the rest of the run is untouched',
    { timeout: 120_000 },
    async () => {
      const f = fleet!;
      const file = path.join(f.dir, 'oversized.jsonl');
      await copyFile(samples, file);
      // One more line whose completion (a comment, then a right answer) is over the message limit.
      const big = `    # ${'x'.repeat(maxMessageBytes + 1000)}\n    return 0\n`;
      await appendFile(file, JSON.stringify({ task_id: 'HumanEvalMini/0', completion: big }) + '\n');
      await f.submitSamples('oversized', file);
      await f.waitCompleted('oversized');
      await ledger('oversized', {
        explainExtra: (job, outcome) =>
          job === `samples/${jobs}` && outcome === 'dead_lettered' ? 'the oversized job' : undefined,
      });
      const [extra] = (await loadResults('oversized', f.store)).filter((r) => r.jobId === `samples/${jobs}`);
      expect(extra?.result.reason).toBe('message_too_large');
    },
  );
});
