// The CLI against the real fleet pieces: dead letters listed, inspected with their reason,
// requeued exactly once; a dry run counts jobs without publishing; models shows key status.
import { afterEach, describe, expect, it } from 'vitest';
import { startProducer } from '@evalfleet/producer';
import { makeEnvelope } from '@evalfleet/shared/messages';
import { connectTest, queueDepth, waitFor } from '../../../test/support/rabbit.js';
import { testFleetEnv, type TestFleetEnv } from '../../../test/support/fleet.js';
import { cli } from '../../../test/support/cli.js';

let fleetEnv: TestFleetEnv | undefined;
afterEach(async () => {
  await fleetEnv?.cleanup();
  fleetEnv = undefined;
});

describe('evalfleet CLI', () => {
  it('lists, inspects and requeues dead letters', async () => {
    fleetEnv = await testFleetEnv('cli-dlq');
    const { env, ns } = fleetEnv;
    const producer = await startProducer({ env, installSignals: false, cwd: fleetEnv.artifactDir });
    const client = await connectTest(ns, { delayTiersMs: undefined, deliveryLimit: undefined });
    try {
      // A run.requested whose spec violates the schema: the producer dead-letters it at once.
      const bad = makeEnvelope({
        type: 'run.requested',
        runId: 'r1',
        jobId: 'r1:request',
        kind: 'echo',
        stage: 'produce',
        payload: { kind: 'echo', spec: { count: -1 } },
      });
      await client.publisher.send(bad);
      await waitFor('dead letter', async () => (await queueDepth(`${ns}.produce.dlq`)) === 1 || undefined, 15_000);

      const list = await cli(env, 'dlq', 'list', '--json');
      expect(list.code).toBe(0);
      const stats = JSON.parse(list.out) as { stage: string; dlqDepth: number }[];
      expect(stats.find((s) => s.stage === 'produce')?.dlqDepth).toBe(1);
      expect(stats.find((s) => s.stage === 'evaluate')?.dlqDepth).toBe(0);

      const inspect = await cli(env, 'dlq', 'inspect', 'produce', '--json');
      const items = JSON.parse(inspect.out) as { code: string; jobId: string; runId: string }[];
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ code: 'schema_violation', jobId: 'r1:request', runId: 'r1' });
      expect(await queueDepth(`${ns}.produce.dlq`)).toBe(1);

      await producer.shutdown();
      const requeue = await cli(env, 'dlq', 'requeue', 'produce', '--json');
      expect(JSON.parse(requeue.out)).toEqual({ moved: 1, skipped: 0 });
      expect(await queueDepth(`${ns}.produce.dlq`)).toBe(0);
      expect(await queueDepth(`${ns}.produce`)).toBe(1);

      expect((await cli(env, 'dlq', 'purge', 'produce')).code).toBe(2);
      expect((await cli(env, 'dlq', 'inspect', 'nowhere')).code).toBe(1);
    } finally {
      await producer.shutdown();
      await client.close();
    }
  });

  it('dry-runs a solve submission: counts jobs, checks models, publishes nothing', async () => {
    fleetEnv = await testFleetEnv('cli-dry');
    const { env, ns } = fleetEnv;
    const r = await cli(
      env,
      'submit',
      'solve',
      '--dataset',
      'datasets/solve-example.jsonl',
      '--models',
      'fake-good,fake-mixed',
      '--samples-per-task',
      '2',
      '--quick-test',
      '--dry-run',
      '--json',
    );
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.out) as { jobs: number; problems: number };
    expect(plan.jobs).toBe(plan.problems * 2 * 2);
    expect(plan.problems).toBeGreaterThanOrEqual(4);
    const unknown = await cli(
      env,
      'submit',
      'solve',
      '--dataset',
      'datasets/solve-example.jsonl',
      '--models',
      'no-such-model',
      '--dry-run',
    );
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('unknown model no-such-model');
    const needsKey = await cli(
      { ...env, OPENROUTER_API_KEY: '' },
      'submit',
      'solve',
      '--dataset',
      'datasets/solve-example.jsonl',
      '--models',
      'gpt-4o-mini',
      '--dry-run',
    );
    expect(needsKey.code).toBe(1);
    expect(needsKey.err).toContain('needs OPENROUTER_API_KEY');
    await expect(queueDepth(`${ns}.produce`)).rejects.toThrow();
  });

  it('lists models with key status', async () => {
    const r = await cli({ OPENROUTER_API_KEY: 'sk-or-test-0123456789abcdef' }, 'models', '--json');
    expect(r.code).toBe(0);
    const models = (JSON.parse(r.out) as { models: { name: string; hasKey: boolean }[] }).models;
    expect(models.find((m) => m.name === 'fake-good')?.hasKey).toBe(true);
    expect(r.out).not.toContain('0123456789abcdef');
  });
});
