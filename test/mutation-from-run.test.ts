// `submit mutation --from-run RUN`: the passing solutions of a solve run, each mutation-tested against its
// problem's tests (HumanEval's check() and MBPP's asserts as pytest files), with statuses a direct pytest
// run of each mutant agrees with.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutantsDocSchema, projectKeys, projectSchema } from '../shared/src/kinds/mutation/index.js';
import { getJson } from '../shared/src/storage/index.js';
import { mapLimit } from '../shared/src/report/index.js';
import { cli } from './support/cli.js';
import { allowedStatuses, directPytest } from './support/direct-pytest.js';
import { mutantLines, startMutationFleet } from './support/mutation-fleet.js';
import type { TestFleet } from './support/fleet.js';

let fleet: TestFleet;
beforeAll(async () => {
  fleet = await startMutationFleet('mutfromrun');
}, 120_000);
afterAll(async () => {
  await fleet?.stop();
});

type Record = { task_id: string; canonical_solution?: string; code?: string };

describe('mutation from a solve run', () => {
  it('mutation-tests each passing solution against its problem’s tests', { timeout: 300_000 }, async () => {
    const { env, fleetEnv } = fleet;
    const tasks = (await readFile('datasets/humaneval-mini.jsonl', 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record);
    // Two right answers and a wrong one: only the passing ones become projects.
    const samples = [
      { task_id: tasks[0]!.task_id, completion: tasks[0]!.canonical_solution },
      { task_id: tasks[1]!.task_id, completion: tasks[1]!.canonical_solution },
      { task_id: tasks[2]!.task_id, completion: '    return None\n' },
    ];
    const file = path.join(fleetEnv.artifactDir, 'samples.jsonl');
    await writeFile(file, samples.map((s) => JSON.stringify(s)).join('\n') + '\n');
    const solve = await cli(
      env,
      'submit',
      'solve',
      '--dataset',
      'datasets/humaneval-mini.jsonl',
      '--samples',
      file,
      '--run-id',
      'fromrun-solve',
      '--wait',
    );
    expect(solve.code, solve.err).toBe(0);

    const run = await cli(
      env,
      'submit',
      'mutation',
      '--from-run',
      'fromrun-solve',
      '--run-id',
      'fromrun-mut',
      '--wait',
    );
    expect(run.code, run.err).toBe(0);
    const lines = await mutantLines(fleetEnv.store, 'fromrun-mut');
    const projects = [...new Set(lines.map((m) => m.project))];
    expect(projects).toEqual(['samples.HumanEvalMini.0.0', 'samples.HumanEvalMini.1.0']);
    expect(lines.filter((m) => m.status === 'infra_error' || m.status === 'incompetent')).toEqual([]);
    expect(lines.filter((m) => m.status === 'killed').length).toBeGreaterThan(0);

    // Each status as a direct pytest run of the mutated solution says.
    const work = await mkdtemp(path.join(tmpdir(), 'evalfleet-fromrun-'));
    try {
      const mismatches: string[] = [];
      for (const project of projects) {
        const dir = path.join(work, project);
        const resultKey = `runs/fromrun-mut/results/${encodeURIComponent(project)}.json`;
        const stored = (await getJson(fleetEnv.store, resultKey)) as { artifacts: { project: { key: string } } };
        const bundle = await getJson(fleetEnv.store, stored.artifacts.project.key, projectSchema);
        await mkdir(dir, { recursive: true });
        for (const [name, text] of Object.entries(bundle.files)) await writeFile(path.join(dir, name), text);
        const doc = await getJson(fleetEnv.store, projectKeys.mutants('fromrun-mut', project), mutantsDocSchema);
        const byId = new Map(doc.mutants.map((m) => [m.id, m]));
        const own = lines.filter((m) => m.project === project);
        const found = await mapLimit(own, 3, async (m) => {
          const direct = await directPytest(
            dir,
            byId.get(m.id)!,
            bundle.tests,
            m.status === 'timeout' ? 5_000 : 60_000,
          );
          return allowedStatuses(direct).includes(m.status) ? undefined : `${project}:${m.id} ${m.status}`;
        });
        mismatches.push(...found.filter((x): x is string => x !== undefined));
      }
      expect(mismatches).toEqual([]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
