// An evaluator killed with SIGKILL mid-run: its unacked deliveries return to the queue, a
// fresh evaluator takes them, the run completes and every job is counted exactly once.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunCounters } from '../shared/src/runs/index.js';
import { createRedis } from '../shared/src/redis/index.js';
import { waitFor } from './support/rabbit.js';
import { startSolveFleet, type SolveFleet } from './support/solve-fleet.js';
import { cli } from './support/cli.js';

let fleet: SolveFleet | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      await once(c, 'exit');
    }
  }
  await fleet?.stop();
  fleet = undefined;
});

function spawnEvaluator(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [path.resolve('services/evaluator/dist/bin.js')], {
    env: { ...env, PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

describe('evaluator crash', () => {
  it('SIGKILL mid-run, a new evaluator finishes the run, each job counted once', { timeout: 240_000 }, async () => {
    fleet = await startSolveFleet('crash', { services: ['producer', 'generator', 'aggregator'] });
    const { env, fleetEnv } = fleet;
    const redis = createRedis({ url: env.REDIS_URL!, keyPrefix: `${fleetEnv.ns}:` });
    try {
      const counters = new RunCounters(redis);
      const first = spawnEvaluator(env);
      const { code } = await cli(
        env,
        'submit',
        'solve',
        '--dataset',
        'datasets/solve-example.jsonl',
        '--models',
        'good',
        '--samples-per-task',
        '3',
        '--run-id',
        'crash-run',
        '--json',
      );
      expect(code).toBe(0);
      const total = 27 * 3;
      await waitFor(
        'some evaluations done',
        async () => ((await counters.progress('crash-run')).done >= 10 ? true : undefined),
        120_000,
        50,
      );
      first.kill('SIGKILL');
      await once(first, 'exit');
      const before = (await counters.progress('crash-run')).done;
      expect(before).toBeLessThan(total);

      spawnEvaluator(env);
      await waitFor('run completed', () => fleetEnv.store.getOptional('runs/crash-run/completed.json'), 180_000, 100);
      const progress = await counters.progress('crash-run');
      expect(progress.done).toBe(total);
      expect(progress.outcomes['outcome:passed']).toBe(total);
      const rows = (await fleetEnv.store.get('runs/crash-run/results.jsonl')).toString('utf8').trim().split('\n');
      expect(rows).toHaveLength(total);
      expect(
        new Set(
          rows.map((l) => {
            const r = JSON.parse(l) as { taskId: string; sampleIndex: number };
            return `${r.taskId}#${r.sampleIndex}`;
          }),
        ).size,
      ).toBe(total);
    } finally {
      redis.disconnect();
    }
  });
});
