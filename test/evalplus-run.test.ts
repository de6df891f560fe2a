// An EvalPlus set of our own (datasets/evalplus-mini.jsonl, submitted gzipped) through the real fleet: a samples
// file whose lines get EvalPlus's base and plus statuses, pass@k on base and on base + plus tests, the inputs
// left out for breaking their task's contract, and the sandbox image the samples ran in.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sandboxImage, startSolveFleet, type SolveFleet } from './support/solve-fleet.js';
import { cli } from './support/cli.js';

let fleet: SolveFleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

type Sample = { task_id: string; completion?: string; solution?: string; expect: [string, string] };

const canonical = (task: string): Pick<Sample, 'task_id' | 'completion'> => ({ task_id: task, completion: '' });

const samples: Sample[] = [
  // Floats: 1e-9 off passes (EvalPlus enforces atol 1e-6 on float outputs), 1e-3 off does not.
  { ...canonical('EvalPlusMini/0'), expect: ['pass', 'pass'] },
  {
    task_id: 'EvalPlusMini/0',
    completion: '    return sum(x * x for x in xs) / len(xs) + 1e-9\n',
    expect: ['pass', 'pass'],
  },
  {
    task_id: 'EvalPlusMini/0',
    completion: '    return sum(x * x for x in xs) / len(xs) + 1e-3\n',
    expect: ['fail', 'fail'],
  },
  // The contract (n >= 0) leaves out -45 and -1: an answer that raises on negative numbers passes.
  {
    task_id: 'EvalPlusMini/1',
    solution: 'def digit_sum(n):\n    return sum(int(d) for d in str(abs(n)))\n',
    expect: ['pass', 'pass'],
  },
  {
    task_id: 'EvalPlusMini/1',
    solution: 'def digit_sum(n):\n    return sum(map(int, str(n)))\n',
    expect: ['pass', 'pass'],
  },
  // The reference sleeps 0.5 s per input: an input may take 2 s (not the 1 s floor).
  { ...canonical('EvalPlusMini/2'), expect: ['pass', 'pass'] },
  { task_id: 'EvalPlusMini/2', completion: '    time.sleep(1.3)\n    return 2 * x\n', expect: ['pass', 'pass'] },
  { task_id: 'EvalPlusMini/2', completion: '    time.sleep(30)\n    return 2 * x\n', expect: ['fail', 'not_run'] },
  // Passes the base tests, fails the plus tests (1 is not prime).
  { ...canonical('EvalPlusMini/3'), expect: ['pass', 'pass'] },
  { task_id: 'EvalPlusMini/3', completion: '    return all(n % d for d in range(2, n))\n', expect: ['pass', 'fail'] },
  // A list is not the tuple expected; sorting the argument in place is allowed; integers beyond 2^53 stay exact.
  { ...canonical('EvalPlusMini/4'), expect: ['pass', 'pass'] },
  { task_id: 'EvalPlusMini/4', completion: '    return [min(xs), max(xs)]\n', expect: ['fail', 'fail'] },
  { task_id: 'EvalPlusMini/4', completion: '    xs.sort()\n    return (xs[0], xs[-1])\n', expect: ['pass', 'pass'] },
  // The task's own atol (1e-3); Infinity among the inputs.
  { ...canonical('EvalPlusMini/5'), expect: ['pass', 'pass'] },
  {
    task_id: 'EvalPlusMini/5',
    completion:
      '    if x == 0 or x == float("inf"):\n        return x\n    g = x\n    for _ in range(60):\n        g = (g + x / g) / 2\n    return g + 0.0004\n',
    expect: ['pass', 'pass'],
  },
  { task_id: 'EvalPlusMini/5', completion: '    return x ** 0.5 + 0.01\n', expect: ['fail', 'fail'] },
];

type ResultLine = { task_id: string; passed: boolean; result: string; base_status: string; plus_status: string };
type Summary = {
  evalplus: {
    ks: number[];
    models: { model: string; base: { k: number; value: number }[]; plus: { k: number; value: number }[] }[];
    excludedInputs: { taskId: string; count: number }[];
  };
  models: { passAtK: { k: number; value: number }[] }[];
  sandboxImages: { tag: string; manifestSha256?: string; samples: number }[];
};

describe('EvalPlus run', () => {
  it(
    'gives each sample its base and plus status and scores both, from a gzipped dataset',
    { timeout: 300_000 },
    async () => {
      fleet = await startSolveFleet('evalplus', { services: ['producer', 'evaluator', 'aggregator'] });
      const { env, fleetEnv } = fleet;
      // Canonical answers come from the dataset itself (prompt + canonical_solution, EvalPlus's own program).
      const dataset = await readFile('datasets/evalplus-mini.jsonl', 'utf8');
      const canonicalOf = new Map(
        dataset
          .trim()
          .split('\n')
          .map((line) => [
            /"task_id": "([^"]+)"/.exec(line)![1]!,
            JSON.parse(/"canonical_solution": ("(?:[^"\\]|\\.)*")/.exec(line)![1]!) as string,
          ]),
      );
      const lines = samples.map(({ expect: _expect, ...s }) =>
        s.completion === '' ? { ...s, completion: canonicalOf.get(s.task_id)! } : s,
      );
      const file = path.join(fleetEnv.artifactDir, 'evalplus-samples.jsonl');
      await writeFile(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

      const { code, err } = await cli(
        env,
        'submit',
        'solve',
        '--dataset',
        'datasets/evalplus-mini.jsonl.gz',
        '--samples',
        file,
        '--run-id',
        'evalplus-run',
        '--wait',
        '--json',
      );
      expect(code, err).toBe(0);

      const results = (await readFile(`${file}_results.jsonl`, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as ResultLine);
      expect(results.map((r) => [r.task_id, r.base_status, r.plus_status])).toEqual(
        samples.map((s) => [s.task_id, ...s.expect]),
      );
      expect(results.map((r) => r.passed)).toEqual(
        samples.map((s) => s.expect[0] === 'pass' && s.expect[1] === 'pass'),
      );
      expect(results[7]!.result).toBe('timed out');

      const summary = JSON.parse(
        (await fleetEnv.store.get('runs/evalplus-run/summary.json')).toString('utf8'),
      ) as Summary;
      // Base: 2/3 on four tasks, 2/2 on two; base + plus: 2/3 on four tasks, 2/2 and 1/2.
      const [model] = summary.evalplus.models;
      expect(model!.model).toBe('samples');
      expect(model!.base).toEqual([{ k: 1, value: expect.closeTo(14 / 18, 12), tasks: 6 }]);
      expect(model!.plus).toEqual([{ k: 1, value: expect.closeTo(25 / 36, 12), tasks: 6 }]);
      expect(summary.models[0]!.passAtK[0]!.value).toBeCloseTo(25 / 36, 12);
      expect(summary.evalplus.excludedInputs).toEqual([{ taskId: 'EvalPlusMini/1', count: 2 }]);
      if (sandboxImage) {
        expect(summary.sandboxImages).toEqual([
          expect.objectContaining({
            tag: sandboxImage,
            manifestSha256: expect.stringMatching(/^[0-9a-f]{64}$/),
            samples: 16,
          }),
        ]);
      } else {
        expect(summary.sandboxImages).toEqual([]);
      }

      const report = await cli(env, 'report', 'evalplus-run');
      expect(report.out).toContain('EvalPlus (pass@k on the base tests / on base + plus tests):');
      expect(report.out).toContain('samples: pass@1  77.8% /  69.4%');
    },
  );
});
