// The mutator killed with SIGKILL mid-run: what it held goes back to the queue, a fresh mutator finishes,
// the run completes and every mutant is counted once (its project's batches added to the run once).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readProjectDir } from '../shared/src/kinds/mutation/index.js';
import { RunCounters } from '../shared/src/runs/index.js';
import { createRedis } from '../shared/src/redis/index.js';
import { getJson } from '../shared/src/storage/index.js';
import { cli } from './support/cli.js';
import { waitFor } from './support/rabbit.js';
import { mutantLines, startMutationFleet } from './support/mutation-fleet.js';
import type { TestFleet } from './support/fleet.js';

let fleet: TestFleet | undefined;
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

function spawnMutator(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [path.resolve('services/mutator/dist/bin.js')], {
    env: { ...env, PATH: process.env.PATH ?? '', MUTATOR_CONCURRENCY: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

describe('mutator crash', () => {
  it('SIGKILL mid-run: a new mutator finishes, each mutant counted once', { timeout: 240_000 }, async () => {
    fleet = await startMutationFleet('mutcrash', { services: ['producer', 'evaluator', 'aggregator'] });
    const { env, fleetEnv } = fleet;
    const redis = createRedis({ url: env.REDIS_URL!, keyPrefix: `${fleetEnv.ns}:` });
    try {
      const counters = new RunCounters(redis);
      const { project } = readProjectDir('datasets/mutation-example');
      const dataset = path.join(fleetEnv.artifactDir, 'projects.jsonl');
      const ids = ['p1', 'p2', 'p3', 'p4'];
      await writeFile(dataset, ids.map((id) => JSON.stringify({ ...project, id })).join('\n') + '\n');
      const first = spawnMutator(env);
      const submitted = await cli(
        env,
        'submit',
        'mutation',
        '--dataset',
        dataset,
        '--max-mutants',
        '12',
        '--batch-mutants',
        '4',
        '--timeout-floor-ms',
        '1000',
        '--run-id',
        'mutcrash-run',
      );
      expect(submitted.code, submitted.err).toBe(0);
      await waitFor(
        'a project mutated',
        async () => ((await counters.progress('mutcrash-run')).stages['mutate:mutated'] ?? 0) >= 1 || undefined,
        120_000,
        20,
      );
      first.kill('SIGKILL');
      await once(first, 'exit');
      expect(await fleetEnv.store.exists('runs/mutcrash-run/completed.json')).toBe(false);

      spawnMutator(env);
      await waitFor(
        'run completed',
        () => fleetEnv.store.getOptional('runs/mutcrash-run/completed.json'),
        200_000,
        100,
      );
      // Each project: its own job and 3 batches of 4 mutants, added once however often its plan ran.
      const progress = await counters.progress('mutcrash-run');
      expect(progress.total).toBe(16);
      expect(progress.done).toBe(16);
      const lines = await mutantLines(fleetEnv.store, 'mutcrash-run');
      expect(lines).toHaveLength(48);
      expect(new Set(lines.map((m) => `${m.project}:${m.id}`)).size).toBe(48);
      expect(lines.filter((m) => m.status === 'infra_error')).toEqual([]);
      // The same project four times: the same statuses four times.
      const of = (id: string) => lines.filter((m) => m.project === id).map((m) => [m.id, m.status]);
      for (const id of ids.slice(1)) expect(of(id)).toEqual(of('p1'));
      expect(await getJson(fleetEnv.store, 'runs/mutcrash-run/summary.json')).toMatchObject({ mutants: 48 });
    } finally {
      redis.disconnect();
    }
  });
});
