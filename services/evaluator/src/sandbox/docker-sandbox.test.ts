import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createDockerSandbox,
  ensureSandboxImage,
  removeSandboxContainers,
  type Sandbox,
  type SandboxCodeJob,
  type SandboxJob,
} from './index.js';
import { dockerForTests } from './docker-available.test-support.js';

// Real Docker engine (scripts/docker-engine starts one). Without it these tests fail in CI and are skipped,
// with the reason printed, on a developer machine.
const { docker, dockerUp } = await dockerForTests('Docker sandbox tests');

let counter = 0;
function job(fields: Omit<SandboxCodeJob, 'jobId' | 'timeoutMs'> & { timeoutMs?: number }): SandboxJob {
  return { jobId: `verdict-${++counter}`, timeoutMs: 10_000, ...fields };
}

const ADD_CHECK = 'def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n';
function humaneval(code: string, extra: Partial<SandboxCodeJob> = {}): SandboxJob {
  return job({ runner: 'humaneval', code, tests: ADD_CHECK, entryPoint: 'add', ...extra });
}

describe.skipIf(!dockerUp)('docker sandbox verdicts', () => {
  let sandbox: Sandbox;

  beforeAll(async () => {
    const image = await ensureSandboxImage({ onProgress: (line) => console.log(line) });
    sandbox = await createDockerSandbox({ image, poolSize: 2, backstopGraceMs: 5_000 });
  }, 15 * 60_000);

  afterAll(async () => {
    await sandbox?.close();
  });

  describe('humaneval', () => {
    it('passes a correct solution', async () => {
      const result = await sandbox.run(humaneval('def add(a, b):\n    return a + b\n'));
      expect(result).toMatchObject({
        verdict: 'passed',
        passed: true,
        sandbox: 'docker',
        exitCode: 0,
        integrity: 'checker',
      });
      expect(result.tests).toEqual([expect.objectContaining({ name: 'check(add)', outcome: 'passed' })]);
    });

    it('fails a wrong solution with the assertion traceback', async () => {
      const result = await sandbox.run(humaneval('def add(a, b):\n    return a - b\n'));
      expect(result).toMatchObject({ verdict: 'failed', passed: false });
      expect(result.tests[0]).toMatchObject({ outcome: 'failed' });
      expect(result.stderr).toContain('AssertionError');
      expect(result.message).toContain('check.py');
    });

    it('fails a solution that raises', async () => {
      const result = await sandbox.run(humaneval('def add(a, b):\n    raise ValueError("nope")\n'));
      expect(result).toMatchObject({ verdict: 'failed' });
      expect(result.tests[0]).toMatchObject({ outcome: 'error' });
      expect(result.message).toContain('ValueError: nope');
    });

    it('reports a syntax error as error/syntax_error', async () => {
      const result = await sandbox.run(humaneval('def add(a, b)\n    return a + b\n'));
      expect(result).toMatchObject({ verdict: 'error', reason: 'syntax_error' });
      expect(result.stderr).toContain('SyntaxError');
    });

    it('reports an import error at load as error/import_error', async () => {
      const result = await sandbox.run(humaneval('import numpy_not_here\ndef add(a, b):\n    return a + b\n'));
      expect(result).toMatchObject({ verdict: 'error', reason: 'import_error' });
    });

    it('reports a NameError at load as error/name_error', async () => {
      const result = await sandbox.run(humaneval('x = undefined_name\ndef add(a, b):\n    return a + b\n'));
      expect(result).toMatchObject({ verdict: 'error', reason: 'name_error' });
    });

    it('fails when the entry point is missing', async () => {
      const result = await sandbox.run(humaneval('def plus(a, b):\n    return a + b\n'));
      expect(result).toMatchObject({ verdict: 'failed', reason: 'entry_point_missing' });
    });

    it.each([
      ['sys.exit(0) at load', 'import sys\ndef add(a, b):\n    return a + b\nsys.exit(0)\n'],
      ['sys.exit(0) inside the checks', 'import sys\ndef add(a, b):\n    sys.exit(0)\n'],
      ['raise SystemExit', 'def add(a, b):\n    raise SystemExit\n'],
      ['os._exit(0)', 'import os\ndef add(a, b):\n    os._exit(0)\n'],
      ['killing itself', 'import os, signal\ndef add(a, b):\n    os.kill(os.getpid(), signal.SIGKILL)\n'],
      ['closing stdout and exiting', 'import os\ndef add(a, b):\n    os.close(1)\n    os._exit(0)\n'],
    ])('does not pass a program that exits before the checks finish: %s', async (_name, code) => {
      const result = await sandbox.run(humaneval(code));
      expect(result).toMatchObject({ verdict: 'failed', passed: false, reason: 'exit_before_checks' });
    });

    it('does not pass a program that monkeypatches builtins the checks rely on', async () => {
      const code = 'import builtins\nbuiltins.isinstance = lambda *a: True\ndef add(a, b):\n    return "3"\n';
      const tests = 'def check(candidate):\n    assert isinstance(candidate(1, 2), int)\n';
      const result = await sandbox.run(job({ runner: 'humaneval', code, tests, entryPoint: 'add' }));
      expect(result).toMatchObject({ verdict: 'failed', passed: false, integrity: 'checker' });
    });

    it('times out a non-terminating solution (wall clock, enforced outside the job)', async () => {
      const started = Date.now();
      const result = await sandbox.run(
        humaneval('def add(a, b):\n    while True:\n        pass\n', { timeoutMs: 1_000 }),
      );
      expect(result).toMatchObject({ verdict: 'timeout', reason: 'wall_clock', signal: 'SIGKILL' });
      expect(result.tests).toEqual([expect.objectContaining({ name: 'check(add)', outcome: 'error' })]);
      expect(Date.now() - started).toBeLessThan(8_000);
    });

    it('times out a sleeping solution (no CPU used, so only the wall clock catches it)', async () => {
      const result = await sandbox.run(
        humaneval('import time\ndef add(a, b):\n    time.sleep(60)\n', { timeoutMs: 1_000 }),
      );
      expect(result).toMatchObject({ verdict: 'timeout' });
    });
  });

  describe('mbpp', () => {
    const code = 'def double(x):\n    return x * 2\n';

    it('passes when every assert holds, with one outcome per assert', async () => {
      const result = await sandbox.run(
        job({ runner: 'mbpp', code, tests: 'assert double(1) == 2\nassert double(2) == 4\nassert double(0) == 0' }),
      );
      expect(result).toMatchObject({ verdict: 'passed' });
      expect(result.tests.map((t) => [t.name, t.outcome])).toEqual([
        ['test_0', 'passed'],
        ['test_1', 'passed'],
        ['test_2', 'passed'],
      ]);
    });

    it('fails when one assert fails, still reporting the others', async () => {
      const result = await sandbox.run(
        job({ runner: 'mbpp', code, tests: 'assert double(1) == 2\nassert double(2) == 5\nassert double(3) == 6' }),
      );
      expect(result).toMatchObject({ verdict: 'failed' });
      expect(result.tests.map((t) => t.outcome)).toEqual(['passed', 'failed', 'passed']);
    });

    it('runs the setup code after the program and before the asserts, as MBPP does', async () => {
      // The setup code builds values from a class the program defines; the asserts reach them as proxies.
      const result = await sandbox.run(
        job({
          runner: 'mbpp',
          setupCode: 'import math\ntree = Node(1, Node(2))\n',
          code: 'class Node:\n    def __init__(self, v, left=None):\n        self.v, self.left = v, left\n\ndef depth(n):\n    return 0 if n is None else 1 + depth(n.left)\n',
          tests: 'assert depth(tree) == 2\nassert depth(None) == 0\nassert math.pi > 3',
        }),
      );
      expect(result).toMatchObject({ verdict: 'passed', integrity: 'checker' });
    });

    it('reports a syntax error in the program', async () => {
      const result = await sandbox.run(
        job({ runner: 'mbpp', code: 'def double(x) return x', tests: 'assert double(1) == 2' }),
      );
      expect(result).toMatchObject({ verdict: 'error', reason: 'syntax_error' });
    });

    it('does not pass a program that exits cleanly before its asserts', async () => {
      const result = await sandbox.run(
        job({ runner: 'mbpp', code: `${code}import sys\nsys.exit(0)\n`, tests: 'assert double(1) == 2' }),
      );
      expect(result).toMatchObject({ verdict: 'failed', reason: 'exit_before_checks' });
    });
  });

  describe('pytest', () => {
    const module = 'def add(a, b):\n    return a + b\n';

    it('passes when every test passes, one outcome per test', async () => {
      const tests =
        'from solution import add\n\ndef test_small():\n    assert add(1, 2) == 3\n\ndef test_negative():\n    assert add(-1, 1) == 0\n';
      const result = await sandbox.run(job({ runner: 'pytest', code: module, tests }));
      expect(result).toMatchObject({ verdict: 'passed', integrity: 'checker' });
      expect(result.tests.map((t) => [t.name, t.outcome])).toEqual([
        ['test_solution.py::test_small', 'passed'],
        ['test_solution.py::test_negative', 'passed'],
      ]);
    });

    it('fails when a test fails, with its message', async () => {
      const tests =
        'from mymod import add\n\ndef test_ok():\n    assert add(1, 2) == 3\n\ndef test_wrong():\n    assert add(2, 2) == 5\n';
      const result = await sandbox.run(job({ runner: 'pytest', code: module, tests, moduleName: 'mymod' }));
      expect(result).toMatchObject({ verdict: 'failed' });
      expect(result.tests.map((t) => t.outcome)).toEqual(['passed', 'failed']);
      expect(result.tests[1]?.message).toContain('assert 4 == 5');
    });

    it('reports a test file that cannot be collected as error/collection_error', async () => {
      const tests = 'from solution import missing_function\n\ndef test_x():\n    assert missing_function()\n';
      const result = await sandbox.run(job({ runner: 'pytest', code: module, tests }));
      expect(result).toMatchObject({ verdict: 'error', reason: 'collection_error' });
    });

    it('reports a syntax error in the module under test as syntax_error', async () => {
      const result = await sandbox.run(
        job({
          runner: 'pytest',
          code: 'def add(a, b) return a',
          tests: 'from solution import add\ndef test_x():\n    assert add(1, 1) == 2\n',
        }),
      );
      expect(result).toMatchObject({ verdict: 'error', reason: 'syntax_error' });
    });

    it('reports a file with no tests as error/no_tests', async () => {
      const result = await sandbox.run(job({ runner: 'pytest', code: module, tests: 'import solution\n' }));
      expect(result).toMatchObject({ verdict: 'error', reason: 'no_tests' });
    });

    it('does not pass a module that calls sys.exit(0) while the tests import it', async () => {
      const tests = 'from solution import add\n\ndef test_small():\n    assert add(1, 2) == 3\n';
      const result = await sandbox.run(job({ runner: 'pytest', code: `import sys\nsys.exit(0)\n${module}`, tests }));
      expect(result).toMatchObject({ verdict: 'failed', reason: 'exit_before_checks' });
    });

    it("raises the module's own exception classes in the tests, hierarchy included", async () => {
      const code =
        'class AppError(Exception):\n    pass\n\nclass NotFound(AppError, KeyError):\n    pass\n\n' +
        'def find(key):\n    raise NotFound(key)\n';
      const tests =
        'import pytest\nfrom solution import AppError, NotFound, find\n\n' +
        'def test_base():\n    with pytest.raises(AppError):\n        find(1)\n\n' +
        'def test_exact():\n    with pytest.raises(NotFound, match="7"):\n        find(7)\n\n' +
        'def test_builtin():\n    with pytest.raises(KeyError):\n        find(1)\n';
      const result = await sandbox.run(job({ runner: 'pytest', code, tests }));
      expect(result.tests.map((t) => t.outcome)).toEqual(['passed', 'passed', 'passed']);
      expect(result).toMatchObject({ verdict: 'passed', integrity: 'checker' });
    });

    it('does not pass a run the module tried to cut short with pytest.exit()', async () => {
      // The tests run in the checker: the module's pytest.exit() only raises in the candidate's process.
      const code = `${module}import pytest\n\ndef stop():\n    pytest.exit("done", returncode=0)\n`;
      const tests =
        'from solution import add, stop\n\ndef test_a():\n    stop()\n\ndef test_b():\n    assert add(2, 2) == 5\n';
      const result = await sandbox.run(job({ runner: 'pytest', code, tests }));
      expect(result).toMatchObject({ verdict: 'failed', integrity: 'checker' });
      expect(result.tests.some((t) => t.outcome === 'passed')).toBe(false);
    });

    it('does not pass when the module exits the interpreter during a test', async () => {
      const code = 'import os\n\ndef add(a, b):\n    os._exit(0)\n';
      const tests = 'from solution import add\n\ndef test_exit():\n    assert add(1, 2) == 3\n';
      const result = await sandbox.run(job({ runner: 'pytest', code, tests }));
      expect(result).toMatchObject({ verdict: 'failed', reason: 'exit_before_checks' });
    });
  });

  describe('unittest', () => {
    const module = 'def add(a, b):\n    return a + b\n';
    const header = 'import unittest\nfrom solution import add\n\nclass AddTest(unittest.TestCase):\n';

    it('passes when every test passes', async () => {
      const tests = `${header}    def test_small(self):\n        self.assertEqual(add(1, 2), 3)\n\n    def test_zero(self):\n        self.assertEqual(add(0, 0), 0)\n`;
      const result = await sandbox.run(job({ runner: 'unittest', code: module, tests }));
      expect(result).toMatchObject({ verdict: 'passed' });
      expect(result.tests.map((t) => [t.name, t.outcome])).toEqual([
        ['test_solution.AddTest.test_small', 'passed'],
        ['test_solution.AddTest.test_zero', 'passed'],
      ]);
    });

    it('separates failures from errors', async () => {
      const tests = `${header}    def test_fail(self):\n        self.assertEqual(add(2, 2), 5)\n\n    def test_error(self):\n        raise KeyError('x')\n`;
      const result = await sandbox.run(job({ runner: 'unittest', code: module, tests }));
      expect(result).toMatchObject({ verdict: 'failed' });
      expect(Object.fromEntries(result.tests.map((t) => [t.name, t.outcome]))).toEqual({
        'test_solution.AddTest.test_error': 'error',
        'test_solution.AddTest.test_fail': 'failed',
      });
    });

    it('does not pass a module that calls sys.exit(0) on import', async () => {
      const tests = `${header}    def test_small(self):\n        self.assertEqual(add(1, 2), 3)\n`;
      const result = await sandbox.run(job({ runner: 'unittest', code: `${module}import sys\nsys.exit(0)\n`, tests }));
      expect(result).toMatchObject({ verdict: 'failed', reason: 'exit_before_checks' });
    });

    it('does not pass a module that patches TestCase to hide failures', async () => {
      const code = `${module}import unittest\nunittest.TestCase.assertEqual = lambda self, a, b, msg=None: None\n`;
      const tests = `${header}    def test_wrong(self):\n        self.assertEqual(add(2, 2), 5)\n`;
      const result = await sandbox.run(job({ runner: 'unittest', code, tests }));
      expect(result).toMatchObject({ verdict: 'failed', integrity: 'checker' });
    });

    it('runs a suite that mocks inside the candidate process, and says so', async () => {
      const code = `${module}def twice(a):\n    return add(a, a)\n`;
      const tests =
        'import unittest\nfrom unittest import mock\nimport solution\n\nclass T(unittest.TestCase):\n' +
        '    def test_mocked(self):\n        with mock.patch.object(solution, "add", return_value=7):\n' +
        '            self.assertEqual(solution.twice(1), 7)\n';
      const result = await sandbox.run(job({ runner: 'unittest', code, tests }));
      expect(result).toMatchObject({ verdict: 'passed', integrity: 'in-process' });
    });
  });

  it('rejects an invalid job without running it', async () => {
    const result = await sandbox.run(job({ runner: 'humaneval', code: 'x = 1', tests: ADD_CHECK }));
    expect(result).toMatchObject({ verdict: 'error', reason: 'invalid_job' });
  });

  it('gives the OOM killer the candidate first, then the checker, never the supervisor or the zygote', async () => {
    // Set while the processes are still root: once a job's uid, they could not lower or write these.
    const code =
      'import json, os\nscores = {}\nfor pid in filter(str.isdigit, os.listdir("/proc")):\n' +
      '    try:\n        name = open("/proc/%s/comm" % pid).read().strip()\n' +
      '        scores.setdefault(name, set()).add(int(open("/proc/%s/oom_score_adj" % pid).read()))\n' +
      '    except OSError:\n        pass\n' +
      'print("scores=" + json.dumps({k: sorted(v) for k, v in scores.items()}))\n' +
      'def add(a, b):\n    return a + b\n';
    const result = await sandbox.run(humaneval(code));
    expect(result.verdict).toBe('passed');
    const scores = JSON.parse(/scores=(.*)/.exec(result.stdout)?.[1] ?? '{}') as Record<string, number[]>;
    expect(scores).toMatchObject({ candidate: [1000], checker: [500], python3: [0] });
  });

  it('runs jobs concurrently across the pool', async () => {
    const jobs = Array.from({ length: 8 }, (_, i) =>
      humaneval(i % 2 === 0 ? 'def add(a, b):\n    return a + b\n' : 'def add(a, b):\n    return 0\n'),
    );
    const results = await Promise.all(jobs.map((j) => sandbox.run(j)));
    expect(results.map((r) => r.verdict)).toEqual([
      'passed',
      'failed',
      'passed',
      'failed',
      'passed',
      'failed',
      'passed',
      'failed',
    ]);
  });

  it('removes its containers on close', async () => {
    const image = await ensureSandboxImage();
    const extra = await createDockerSandbox({ image, poolSize: 1 });
    const poolId = /pool (\w+)/.exec(extra.describe())?.[1];
    expect(poolId).toBeDefined();
    const before = await docker.listContainers({
      all: true,
      filters: { label: [`org.evalfleet.sandbox.pool=${poolId}`] },
    });
    expect(before).toHaveLength(1);
    await extra.close();
    await removeSandboxContainers(docker, { poolId: poolId! });
    const after = await docker.listContainers({
      all: true,
      filters: { label: [`org.evalfleet.sandbox.pool=${poolId}`] },
    });
    expect(after).toHaveLength(0);
    expect((await extra.run(humaneval('def add(a, b):\n    return a + b\n'))).verdict).toBe('infra_error');
  });
});
