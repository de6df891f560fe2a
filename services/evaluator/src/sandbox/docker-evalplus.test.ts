// The `evalplus` runner in the real Docker sandbox: the reference's outputs (reference mode), then samples
// compared with them by EvalPlus's rules (check mode), per-input limits, and candidates that try to cheat.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type {
  EvalPlusCheckData,
  EvalPlusCheckOptions,
  EvalPlusDataset,
  EvalPlusReferenceData,
} from '@evalfleet/shared/workflow';
import type { Problem } from '@evalfleet/shared/datasets';
import { computeOracle, evalplusJob } from '@evalfleet/shared/kinds/solve';
import { createDockerSandbox, ensureSandboxImage, type Sandbox, type SandboxJob, type SandboxResult } from './index.js';
import { dockerForTests } from './docker-available.test-support.js';

const { dockerUp } = await dockerForTests('Docker evalplus tests');

let counter = 0;
type Task = { code: string; entryPoint: string; dataset?: EvalPlusDataset; taskId?: string };

describe.skipIf(!dockerUp)('evalplus runner', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    const image = await ensureSandboxImage({ onProgress: (line) => console.log(line) });
    sandbox = await createDockerSandbox({ image, poolSize: 2, backstopGraceMs: 5_000 });
  }, 20 * 60_000);

  afterAll(async () => {
    await sandbox?.close();
  });

  async function reference(task: Task, inputs: string, extra: { budgetChars?: number } = {}) {
    const result = await sandbox.run({
      jobId: `ref-${++counter}`,
      runner: 'evalplus',
      code: task.code,
      entryPoint: task.entryPoint,
      timeoutMs: 60_000,
      callTimeoutMs: 10_000,
      evalplus: {
        mode: 'reference',
        dataset: task.dataset ?? 'custom',
        taskId: task.taskId ?? 't/0',
        inputs,
        ...extra,
      },
    });
    expect(result, result.message).toMatchObject({ verdict: 'passed', integrity: 'checker' });
    return { result, data: result.data as EvalPlusReferenceData };
  }

  /** Reference outputs of `ref` for each phase's inputs, then `code` checked against them. */
  async function check(
    task: Task,
    code: string,
    phases: { base: string[]; plus?: string[] },
    options: Partial<EvalPlusCheckOptions> = {},
  ): Promise<SandboxResult & { data: EvalPlusCheckData }> {
    const built = [];
    for (const name of ['base', 'plus'] as const) {
      const inputs = phases[name];
      if (!inputs) continue;
      const { data } = await reference(task, `[${inputs.join(',')}]`);
      const kept = inputs.map((_, i) => i).filter((i) => data.outputs[i] !== null);
      built.push({
        name,
        inputs: `[${kept.map((i) => inputs[i]).join(',')}]`,
        expected: JSON.stringify(kept.map((i) => data.outputs[i])),
        refMs: kept.map((i) => data.timesMs[i]!),
        indices: kept,
      });
    }
    const result = await sandbox.run({
      jobId: `check-${++counter}`,
      runner: 'evalplus',
      code,
      entryPoint: task.entryPoint,
      timeoutMs: 60_000,
      evalplus: {
        mode: 'check',
        dataset: task.dataset ?? 'custom',
        taskId: task.taskId ?? 't/0',
        atol: 0,
        floorMs: 1000,
        factor: 4,
        phaseCapMs: 60_000,
        phases: built,
        ...options,
      },
    });
    return result as SandboxResult & { data: EvalPlusCheckData };
  }

  describe('reference mode', () => {
    it('returns each output and time, and leaves out inputs that break the contract or the reference', async () => {
      const task = {
        entryPoint: 'f',
        code:
          'def f(x, y):\n' +
          '    assert x >= 0, "invalid inputs"  # $_CONTRACT_$\n' +
          '    if y == "object":\n        return object()\n' +
          '    return x // y\n',
      };
      const { result, data } = await reference(
        task,
        '[[7, 2], [-1, 1], [1, 0], [1, "object"], [12345678901234567890123, 1]]',
      );
      expect(result.tests).toEqual([expect.objectContaining({ name: 'reference', outcome: 'passed' })]);
      expect(data.done).toBe(5);
      expect(data.outputs.map((o) => o === null)).toEqual([false, true, true, true, false]);
      expect(data.timesMs.every((t, i) => (data.outputs[i] === null ? t === null : typeof t === 'number'))).toBe(true);
      expect(data.errors.map(([i, reason]) => [i, reason])).toEqual([
        [1, 'contract'],
        [2, 'reference_error'],
        [3, 'output_not_kept'],
      ]);
      expect(data.errors[1]![2]).toContain('ZeroDivisionError');
    });

    it('stops a chunk at its byte budget; the next chunk goes on from there', async () => {
      const task = { entryPoint: 'f', code: 'def f(n):\n    return "x" * n\n' };
      const { data } = await reference(task, '[[100], [100], [100], [100]]', { budgetChars: 300 });
      expect(data.done).toBe(2);
      expect(data.outputs).toHaveLength(2);
    });

    it("applies MBPP+'s input conversions and its output-not-None rule", async () => {
      const pair = {
        dataset: 'mbpp' as const,
        taskId: 'Mbpp/106',
        entryPoint: 'add_lists',
        code: 'def add_lists(a, b):\n    return b + tuple(a)\n',
      };
      // Mbpp/106 takes (list, tuple): EvalPlus's loader turns the second argument into a tuple.
      expect((await reference(pair, '[[[5, 6], [9, 10]]]')).data.errors).toEqual([]);
      const converted = await check(pair, pair.code, { base: ['[[5, 6], [9, 10]]'] });
      expect(converted).toMatchObject({ verdict: 'passed', data: { base: 'pass' } });
      // Without the conversion (another task number) the second argument stays a list: list + tuple raises.
      const unconverted = await reference({ ...pair, taskId: 'Mbpp/9999' }, '[[[5, 6], [9, 10]]]');
      expect(unconverted.data.errors.map(([i, reason]) => [i, reason])).toEqual([[0, 'reference_error']]);
      const matcher = {
        dataset: 'mbpp' as const,
        taskId: 'Mbpp/787',
        entryPoint: 'text_match_three',
        code: 'import re\ndef text_match_three(text):\n    return re.search("ab{3}", text)\n',
      };
      const { data } = await reference(matcher, '[["abbb"], ["ac"]]');
      expect(data.errors).toEqual([]);
      // The outputs are True and False (codec tags 2 and 1): a match object is not kept, only whether it exists.
      expect(data.outputs.map((o) => Buffer.from(o!, 'base64')[0])).toEqual([2, 1]);
      const answer = await check(matcher, 'def text_match_three(text):\n    return "abbb" in text or None\n', {
        base: ['["abbb"]', '["ac"]'],
      });
      expect(answer).toMatchObject({ verdict: 'passed', data: { base: 'pass' } });
    });
  });

  describe('check mode', () => {
    const mean = { entryPoint: 'f', code: 'def f(xs):\n    return sum(xs) / len(xs)\n' };

    it('passes the reference itself and a float answer within 1e-6, fails one beyond', async () => {
      const phases = { base: ['[[1.0, 2.0]]', '[[0.1, 0.2, 0.3]]'], plus: ['[[1e-3, 1e3]]'] };
      const same = await check(mean, mean.code, phases);
      expect(same).toMatchObject({ verdict: 'passed', integrity: 'checker', data: { base: 'pass', plus: 'pass' } });
      expect(same.tests.map((t) => [t.name, t.outcome])).toEqual([
        ['base', 'passed'],
        ['plus', 'passed'],
      ]);
      const close = await check(mean, 'def f(xs):\n    return sum(xs) / len(xs) + 5e-7\n', phases);
      expect(close).toMatchObject({ verdict: 'passed', data: { base: 'pass', plus: 'pass' } });
      // 1e-5 off: beyond 1e-6 + 1e-7 x 1.5, within 1e-6 + 1e-7 x 500 (numpy's rtol counts too).
      const far = await check(mean, 'def f(xs):\n    return sum(xs) / len(xs) + 1e-5\n', phases);
      expect(far).toMatchObject({ verdict: 'failed', data: { base: 'fail', plus: 'pass' } });
      expect(far.tests[0]!.message).toContain('base input #0 (1 of 2): expected 1.5, got 1.50001');
    });

    it("uses the task's atol, and compares types and lengths before closeness", async () => {
      const root = { entryPoint: 'f', code: 'def f(x):\n    return [x ** 0.5, x]\n' };
      const phases = { base: ['[2.0]', '[9.0]'] };
      const within = await check(root, 'def f(x):\n    return [x ** 0.5 + 4e-4, x]\n', phases, { atol: 1e-3 });
      expect(within).toMatchObject({ verdict: 'passed' });
      const beyond = await check(root, 'def f(x):\n    return [x ** 0.5 + 4e-3, x]\n', phases, { atol: 1e-3 });
      expect(beyond).toMatchObject({ verdict: 'failed', data: { base: 'fail' } });
      const tuple = await check(root, 'def f(x):\n    return (x ** 0.5, x)\n', phases, { atol: 1e-3 });
      expect(tuple).toMatchObject({ verdict: 'failed', data: { base: 'fail' } });
      const longer = await check(root, 'def f(x):\n    return [x ** 0.5, x, 0.0]\n', phases, { atol: 1e-3 });
      expect(longer).toMatchObject({ verdict: 'failed', data: { base: 'fail' } });
    });

    it('keeps integers exact and never passes NaN (as EvalPlus: nan == nan is false)', async () => {
      const big = { entryPoint: 'f', code: 'def f(a, b):\n    return a * b\n' };
      const inputs = ['[12345678901234567890123, 98765432109876543210]'];
      expect(await check(big, big.code, { base: inputs })).toMatchObject({ verdict: 'passed' });
      const off = await check(big, 'def f(a, b):\n    return a * b + 1\n', { base: inputs });
      expect(off).toMatchObject({ verdict: 'failed' });
      const nan = { entryPoint: 'f', code: 'def f(x):\n    return x * 0.0\n' };
      const result = await check(nan, nan.code, { base: ['[Infinity]'] });
      expect(result).toMatchObject({ verdict: 'failed', data: { base: 'fail' } });
      expect(result.tests[0]!.message).toContain('expected nan, got nan');
    });

    it('deep-copies each input: a candidate that sorts its argument in place still passes', async () => {
      const sorter = { entryPoint: 'f', code: 'def f(xs):\n    return sorted(xs)\n' };
      const inPlace = 'def f(xs):\n    xs.sort()\n    return xs\n';
      expect(await check(sorter, inPlace, { base: ['[[3, 1, 2]]', '[[9, 8]]'] })).toMatchObject({ verdict: 'passed' });
    });

    it("uses EvalPlus's special oracles: a root for find_zero, set equality for similar_elements", async () => {
      const findZero = {
        dataset: 'humaneval' as const,
        taskId: 'HumanEval/32',
        entryPoint: 'find_zero',
        code: 'def find_zero(xs):\n    return 2.0\n',
      };
      // x^2 - 5x + 6 has the roots 2 and 3: another root than the reference's passes.
      const other = await check(findZero, 'def find_zero(xs):\n    return 3.0\n', { base: ['[[6, -5, 1]]'] });
      expect(other).toMatchObject({ verdict: 'passed' });
      const wrong = await check(findZero, 'def find_zero(xs):\n    return 2.5\n', { base: ['[[6, -5, 1]]'] });
      expect(wrong).toMatchObject({ verdict: 'failed' });
      const similar = {
        dataset: 'mbpp' as const,
        taskId: 'Mbpp/2',
        entryPoint: 'similar_elements',
        code: 'def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b)))\n',
      };
      const reordered = 'def similar_elements(a, b):\n    return tuple(sorted(set(a) & set(b), reverse=True))\n';
      expect(await check(similar, reordered, { base: ['[[3, 4, 5, 6], [5, 7, 4, 10]]'] })).toMatchObject({
        verdict: 'passed',
      });
    });

    it('passes base and fails plus, each phase with its own status', async () => {
      const prime = {
        entryPoint: 'f',
        code: 'def f(n):\n    return n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))\n',
      };
      const naive = 'def f(n):\n    return all(n % d for d in range(2, n))\n';
      const result = await check(prime, naive, { base: ['[2]', '[9]', '[13]'], plus: ['[7]', '[1]', '[4]'] });
      expect(result).toMatchObject({ verdict: 'failed', data: { base: 'pass', plus: 'fail' } });
      expect(result.data.failure).toMatchObject({ phase: 'plus' });
      expect(result.tests[1]!.message).toContain('plus input #1 (2 of 3): expected False, got True');
    });

    it("cuts an input at max(floor, factor x the reference's time): the phase fails, the plus tests do not run", async () => {
      const slow = { entryPoint: 'f', code: 'import time\ndef f(x):\n    time.sleep(0.5)\n    return x\n' };
      const sleeper = (s: number) => `import time\ndef f(x):\n    time.sleep(${s})\n    return x\n`;
      const phases = { base: ['[1]'], plus: ['[2]'] };
      // The reference's 0.5 s gives 2 s: 1.3 s is over the 1 s floor but within.
      expect(await check(slow, sleeper(1.3), phases)).toMatchObject({ verdict: 'passed' });
      const cut = await check(slow, sleeper(30), phases);
      expect(cut).toMatchObject({
        verdict: 'timeout',
        reason: 'call_timeout',
        data: { base: 'fail', plus: 'not_run' },
      });
      expect(cut.tests.map((t) => t.outcome)).toEqual(['failed', 'skipped']);
      expect(cut.tests[0]!.message).toMatch(/exceeded its limit of 2\.\d+ s/);
    });

    it('times a phase out at min(cap, the sum of its limits) + 2 s', async () => {
      const quick = { entryPoint: 'f', code: 'def f(x):\n    return x\n' };
      // Each input well within its own 1 s, but ten of them take 5 s: the phase may take min(1.25, 10) + 2 s.
      const dawdler = 'import time\ndef f(x):\n    if x < 100:\n        time.sleep(0.5)\n    return x\n';
      const base = Array.from({ length: 10 }, (_, i) => `[${i}]`);
      const result = await check(quick, dawdler, { base, plus: ['[100]'] }, { phaseCapMs: 1250 });
      expect(result).toMatchObject({ verdict: 'timeout', data: { base: 'timeout' } });
      expect(result.tests[0]!.message).toContain("phase's time limit");
      // Cut during a call, the candidate is still busy and the plus tests cannot run; between two calls, they do.
      expect(
        result.data.plus === 'not_run' ? result.reason === 'call_timeout' : result.reason === 'phase_time_limit',
      ).toBe(true);
      expect(['not_run', 'pass']).toContain(result.data.plus);
    });

    it('fails every phase when the program does not load or lacks the entry point', async () => {
      const task = { entryPoint: 'f', code: 'def f(x):\n    return x\n' };
      const broken = await check(task, 'def f(x)\n    return x\n', { base: ['[1]'], plus: ['[2]'] });
      expect(broken).toMatchObject({ verdict: 'error', reason: 'syntax_error', data: { base: 'fail', plus: 'fail' } });
      const missing = await check(task, 'def g(x):\n    return x\n', { base: ['[1]'], plus: ['[2]'] });
      expect(missing).toMatchObject({
        verdict: 'failed',
        reason: 'entry_point_missing',
        data: { base: 'fail', plus: 'fail' },
      });
    });
  });

  describe('hostile candidates', () => {
    const floats = { entryPoint: 'f', code: 'def f(x):\n    return [x * 1.5, 2.0]\n' };

    it('cannot pass with an object that claims to equal anything, nor reach numpy with its array protocol', async () => {
      const equalsAll =
        'class A:\n    def __eq__(self, other):\n        return True\n    __hash__ = None\ndef f(x):\n    return A()\n';
      expect(await check(floats, equalsAll, { base: ['[1.0]'] })).toMatchObject({
        verdict: 'failed',
        integrity: 'checker',
      });
      // A list holding an object whose array interface points into memory: numpy must never see it.
      const pointer =
        'class P:\n' +
        '    __array_interface__ = {"shape": (1,), "typestr": "<f8", "data": (4096, False), "version": 3}\n' +
        'def f(x):\n    return [P(), 2.0]\n';
      const result = await check(floats, pointer, { base: ['[1.0]'] });
      expect(result).toMatchObject({ verdict: 'failed', data: { base: 'fail' } });
      expect(result.tests[0]!.message).toContain('object of the candidate');
    });

    it('gets nothing from a float subclass with its own __eq__: it is compared by its value', async () => {
      const lying =
        'class F(float):\n    def __eq__(self, other):\n        return True\n    __hash__ = float.__hash__\ndef f(x):\n    return [F(0.0), F(0.0)]\n';
      expect(await check(floats, lying, { base: ['[1.0]'] })).toMatchObject({ verdict: 'failed' });
    });

    it('cannot end its phase as passed by exiting', async () => {
      const exits = 'import os\ndef f(x):\n    os._exit(0)\n';
      const result = await check(floats, exits, { base: ['[1.0]'], plus: ['[2.0]'] });
      expect(result).toMatchObject({
        verdict: 'failed',
        reason: 'exit_before_checks',
        data: { base: 'fail', plus: 'not_run' },
      });
    });
  });

  it(
    'carries large inputs and outputs: a million integers and a 4 MB string in, the string reversed out (in slices)',
    { timeout: 300_000 },
    async () => {
      const code = 'def f(xs, s):\n    return [len(xs), sum(xs), s[::-1]]\n';
      const xs = `[${Array.from({ length: 1_000_000 }, (_, i) => i * 7919).join(',')}]`;
      const input = `[${xs}, "${'ab'.repeat(2_000_000)}"]`;
      const problem: Problem = {
        taskId: 'Large/0',
        entryPoint: 'f',
        prompt: 'large',
        tests: 'large',
        testFormat: 'evalplus',
        category: 'large',
        source: 'evalplus',
        referenceSolution: code,
        referenceMode: 'full',
        starterCode: '',
        evalplus: { dataset: 'custom', baseInputs: [input], plusInputs: [], atol: 0, contract: '' },
      };
      const capability = { run: (job: SandboxJob) => sandbox.run(job), describe: () => 'docker', fingerprint: 'large' };
      let started = performance.now();
      const oracle = await computeOracle(problem, capability, 'large');
      const referenceMs = performance.now() - started;
      expect(oracle).toMatchObject({ status: 'ok', base: { excluded: [] } });
      started = performance.now();
      const checked = await sandbox.run(evalplusJob('large', problem, oracle, { code, mode: 'full' }));
      console.log(
        `evalplus large input: ${(input.length / 1e6).toFixed(1)} MB of input, ${(oracle.base.outputs[0]!.length / 1e6).toFixed(1)} MB of output ` +
          `(base64, in slices): reference ${Math.round(referenceMs)} ms (the call ${oracle.base.timesMs[0]} ms), ` +
          `check ${Math.round(performance.now() - started)} ms (sandbox ${Math.round(checked.durationMs)} ms)`,
      );
      expect(checked).toMatchObject({ verdict: 'passed', data: { base: 'pass', plus: 'pass' } });
      const wrong = await sandbox.run(
        evalplusJob('large-wrong', problem, oracle, { code: code.replace('s[::-1]', 's'), mode: 'full' }),
      );
      expect(wrong).toMatchObject({ verdict: 'failed', data: { base: 'fail' } });
    },
  );
});
