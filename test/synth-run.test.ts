// The synth workload through the real fleet: the fake provider over HTTP, the generator, the
// mutator's operators, the sandbox's project runner (Docker when EVALFLEET_SANDBOX_IMAGE is set),
// the aggregator's reports, and the CLI — submit, then `synth validate` of a run and of a tampered
// file. Scenarios are designed so the mixed fake model meets every rejection path (see
// services/fake-provider/src/synth.ts); a second catalog shows scenarios stay unique across runs.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { untarGz } from '../shared/src/kinds/synth/index.js';
import { runKeys } from '../shared/src/runs/index.js';
import { cli } from './support/cli.js';
import { redisUrl } from './support/fleet.js';
import { startSolveFleet, type SolveFleet } from './support/solve-fleet.js';

type Summary = {
  jobs: number;
  acceptedJobs: number;
  tasks: number;
  byStrategy: { strategy: string; proposed: number; valid: number }[];
  rejections: Record<string, number>;
  generationRejections: Record<string, number>;
  costUsd: number;
  costPerTaskUsd: number;
};
type Task = {
  instance_id: string;
  scenario: { id: string; subtopic: string };
  module_path: string;
  clean_code: string;
  buggy_code: string;
  strategy: string;
  operator: string | null;
  FAIL_TO_PASS: string[];
  PASS_TO_PASS: string[];
  failing_output: string;
  conversation: { role: string; content: string }[];
  bundle: string;
  model: string;
  prompt_tokens: number;
  cost_usd: number;
};

// One scenario per mixed variant: valid, clean-fails, flaky, weak suite, malformed YAML, JSON.
const designed = [
  ['Physics', 'Optics and waves', 'Thin lens imaging'],
  ['Chemistry', 'Chemical kinetics', 'Arrhenius rate constants'],
  ['Chemistry', 'Stoichiometry', 'Limiting reagent yield'],
  ['Engineering', 'Structural engineering', 'Stress and strain in axial members'],
  ['Statistics and data science', 'Inference', 'Chi-square goodness of fit'],
  ['Physics', 'Optics and waves', 'Standing waves on strings'],
];
const extra = [
  ['Physics', 'Thermodynamics', 'Entropy change of mixing'],
  ['Physics', 'Thermodynamics', 'Heat engine efficiency'],
  ['Biology and medicine', 'Genomics', 'GC content of DNA sequences'],
];
const catalog = (rows: string[][]) =>
  JSON.stringify(rows.map(([domain, topic, subtopic]) => ({ domain, topic, subtopic })));

let fleet: SolveFleet;
const file = (name: string) => path.join(fleet.fleetEnv.artifactDir, name);
beforeAll(async () => {
  fleet = await startSolveFleet('synth', { services: ['producer', 'generator', 'evaluator', 'mutator', 'aggregator'] });
  await writeFile(file('designed.json'), catalog(designed));
  await writeFile(file('all.json'), catalog([...designed, ...extra]));
}, 120_000);
afterAll(async () => {
  await fleet?.stop();
});

async function jsonl<T>(runId: string, name: string): Promise<T[]> {
  const text = (await fleet.fleetEnv.store.get(runKeys.report(runId, name))).toString('utf8');
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

describe('synth run', () => {
  it(
    'the mixed model: exact accepted tasks and rejections per reason, verified in the sandbox',
    { timeout: 600_000 },
    async () => {
      const r = await cli(
        fleet.env,
        'submit',
        'synth',
        '--models',
        'mixed',
        '--count',
        '6',
        '--catalog',
        file('designed.json'),
        '--retries',
        '1',
        '--max-candidates',
        '1',
        '--run-id',
        'synth-mixed',
        '--wait',
        '--json',
      );
      expect(r.code, r.err).toBe(0);
      const summary = JSON.parse(r.out) as Summary;
      const tasks = await jsonl<Task>('synth-mixed', 'tasks.jsonl');
      const rejections = await jsonl<Record<string, unknown>>('synth-mixed', 'rejections.jsonl');
      const described = JSON.stringify({
        summary,
        tasks: tasks.map((t) => [t.scenario.subtopic, t.strategy, t.operator]),
        rejections: rejections.map((x) => [x['scenario'], x['gen'], x['reason'], x['strategy'], x['operator']]),
      });
      expect(summary, described).toMatchObject({ jobs: 6, acceptedJobs: 6 });
      // Every generation turned down once: the suite fails on the clean module, the suite is flaky, the
      // weak suite lets every bug through, the first answer is cut off.
      expect(summary.generationRejections, described).toEqual({
        malformed_answer: 1,
        clean_fails: 1,
        flaky_suite: 1,
        no_valid_bug: 1,
      });
      // The model's variants: per accepted generation one no test notices and one that breaks every
      // test; the weak suite's variant and mutants pass; one mutated atomic mass (stoichiometry) is
      // checked by no test. The mutants are picked by scenario and generation, so the counts are fixed.
      expect(summary.byStrategy, described).toEqual([
        { strategy: 'llm', proposed: 19, valid: 6, yield: 0.315789 },
        { strategy: 'ast', proposed: 7, valid: 6, yield: 0.857143 },
        { strategy: 'numeric', proposed: 7, valid: 5, yield: 0.714286 },
      ]);
      expect(summary.rejections, described).toEqual({
        malformed_answer: 1,
        clean_fails: 1,
        flaky_suite: 1,
        no_valid_bug: 1,
        bug_passes: 10,
        no_pass_to_pass: 6,
      });
      expect(summary.tasks).toBe(17);
      expect(tasks).toHaveLength(17);
      expect(summary.costUsd).toBeGreaterThan(0);
      expect(summary.costPerTaskUsd).toBeCloseTo(summary.costUsd / summary.tasks, 6);

      for (const t of tasks) {
        expect(t.FAIL_TO_PASS.length, t.instance_id).toBeGreaterThan(0);
        expect(t.PASS_TO_PASS.length, t.instance_id).toBeGreaterThan(0);
        expect(t.buggy_code).not.toBe(t.clean_code);
        expect(t).toMatchObject({ model: 'mixed', prompt_tokens: expect.any(Number), cost_usd: expect.any(Number) });
        expect(t.failing_output.length).toBeGreaterThan(0);
        expect(t.conversation[0]!.content).toContain(t.failing_output.slice(0, 200));
      }
      const lens = tasks.find((t) => t.scenario.subtopic === 'Thin lens imaging' && t.strategy === 'llm')!;
      expect(lens.FAIL_TO_PASS).toEqual(['test_projectile.py::test_max_height_adds_the_launch_height']);
      expect(lens.PASS_TO_PASS).toHaveLength(8);
      expect(lens.failing_output).toContain('assert 5.096839959225279 == 10.09683995922528');
      const orbit = tasks.find((t) => t.module_path === 'orbits.py' && t.strategy === 'llm')!;
      expect(orbit.FAIL_TO_PASS.sort()).toEqual([
        'test_orbits.OrbitTests.test_earth_escape_velocity',
        'test_orbits.OrbitTests.test_escape_is_sqrt_two_times_circular',
      ]);
      expect(orbit.failing_output).toMatch(/^=+\nFAIL: test_orbits\.OrbitTests\.test_/);

      const instances = await jsonl<{ instance_id: string; patch: string; FAIL_TO_PASS: string[] }>(
        'synth-mixed',
        'instances.jsonl',
      );
      expect(instances.map((i) => i.instance_id)).toEqual(tasks.map((t) => t.instance_id));
      expect(instances[0]!.patch).toMatch(/^diff --git a\/\w+\.py b\/\w+\.py\n--- a\//);
      const bundle = await untarGz(await fleet.fleetEnv.store.get(lens.bundle));
      expect(Object.keys(bundle).sort()).toEqual(
        ['README.md', 'projectile.py', 'run_tests.py', 'test_projectile.py'].map((f) => `${lens.instance_id}/${f}`),
      );
      expect(bundle[`${lens.instance_id}/projectile.py`]).toBe(lens.buggy_code);
      const html = (await fleet.fleetEnv.store.get(runKeys.report('synth-mixed', 'report.html'))).toString('utf8');
      expect(html).toContain('Valid yield per strategy');

      const report = await cli(fleet.env, 'report', 'synth-mixed');
      expect(report.code, report.err).toBe(0);
      expect(report.out).toContain(`${summary.tasks} tasks from 6 of 6 scenarios`);
      expect(report.out).toMatch(/^llm +19 +6 +31\.6%$/m);
    },
  );

  it(
    'scenarios stay unique across runs and catalogs; validate passes a run and fails a tampered task',
    { timeout: 600_000 },
    async () => {
      // The designed scenarios are used (first test); the larger catalog has three left.
      const good = await cli(
        fleet.env,
        'submit',
        'synth',
        '--models',
        'good',
        '--count',
        '3',
        '--catalog',
        file('all.json'),
        '--strategies',
        'llm',
        '--file-edit',
        '--suppress-buggy-code',
        '--run-id',
        'synth-good',
        '--wait',
      );
      expect(good.code, good.err).toBe(0);
      const tasks = await jsonl<Task>('synth-good', 'tasks.jsonl');
      expect(tasks.map((t) => t.scenario.subtopic).sort()).toEqual(extra.map((e) => e[2]).sort());
      for (const t of tasks) expect(t.conversation[0]!.content).not.toContain(t.buggy_code.trimEnd());
      // The producer's Redis set knows every scenario both runs claimed; the store holds a claim for each.
      const redis = new Redis(redisUrl);
      try {
        expect(await redis.scard(`${fleet.fleetEnv.ns}:kind:synth:set:used-scenarios`)).toBe(9);
      } finally {
        await redis.quit();
      }
      const claims: string[] = [];
      for await (const key of fleet.fleetEnv.store.list('synth/scenarios/used/')) claims.push(key);
      expect(claims).toHaveLength(9);

      const exhausted = await cli(
        fleet.env,
        'submit',
        'synth',
        '--models',
        'good',
        '--catalog',
        file('all.json'),
        '--wait',
      );
      expect(exhausted.code).toBe(1);
      expect(exhausted.err).toMatch(/every scenario of catalog catalog \(9\) has been used/);

      const valid = await cli(fleet.env, 'synth', 'validate', 'synth-good');
      expect(valid.code, valid.err).toBe(0);
      const rows = valid.out.split('\n').slice(1);
      expect(rows.map((l) => l.trim().split(/\s+/)[0]).sort()).toEqual(tasks.map((t) => t.instance_id).sort());
      expect(rows.every((l) => l.endsWith('  valid'))).toBe(true);

      const [first, second] = tasks;
      const tampered = { ...second!, buggy_code: second!.clean_code };
      await writeFile(file('tampered.jsonl'), `${JSON.stringify(first)}\n${JSON.stringify(tampered)}\n`);
      const invalid = await cli(fleet.env, 'synth', 'validate', file('tampered.jsonl'), '--json');
      expect(invalid.code).toBe(1);
      const results = invalid.out
        .split('\n')
        .map((l) => JSON.parse(l) as { instanceId: string; ok: boolean; problems: string[] });
      expect(results.map((x) => [x.instanceId, x.ok])).toEqual([
        [first!.instance_id, true],
        [second!.instance_id, false],
      ]);
      expect(results[1]!.problems[0]).toMatch(/^the buggy module fails \[\] instead of FAIL_TO_PASS \[/);
      expect(await readFile(file('tampered.jsonl'), 'utf8')).toContain(second!.instance_id);
    },
  );
});
