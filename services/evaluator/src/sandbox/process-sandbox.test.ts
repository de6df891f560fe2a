import { existsSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  createProcessSandbox,
  type Sandbox,
  type SandboxCodeJob,
  type SandboxJob,
  type SandboxLogger,
} from './index.js';

// The process sandbox needs a local Python 3; Debian's /usr/bin/python3 is what CI and this machine have.
const PYTHON = '/usr/bin/python3';
if (!existsSync(PYTHON) && process.env.CI) throw new Error(`process sandbox tests need ${PYTHON}`);

let counter = 0;
function job(fields: Omit<SandboxCodeJob, 'jobId' | 'timeoutMs'> & { timeoutMs?: number }): SandboxJob {
  return { jobId: `process-${++counter}`, timeoutMs: 10_000, ...fields };
}
const CHECK = 'def check(candidate):\n    assert candidate(2) == 4\n';
const UNITTEST_SUITE =
  'import unittest\nfrom solution import double\n\nclass T(unittest.TestCase):\n    def test_two(self):\n        self.assertEqual(double(2), 4)\n';

describe.skipIf(!existsSync(PYTHON))('process sandbox', () => {
  let sandbox: Sandbox;
  const warnings: string[] = [];
  const logger: SandboxLogger = {
    info: () => undefined,
    warn: (_o, msg) => warnings.push(msg),
    error: (_o, msg) => warnings.push(msg),
  };

  beforeAll(() => {
    process.env.EVALFLEET_TEST_SECRET = 'must-not-reach-a-job';
    sandbox = createProcessSandbox({ python: PYTHON, concurrency: 2, logger });
  });

  afterAll(async () => {
    delete process.env.EVALFLEET_TEST_SECRET;
    await sandbox?.close();
  });

  it('warns loudly that it is not isolated', () => {
    expect(warnings.some((w) => w.includes('NOT') && w.includes('isolated'))).toBe(true);
    expect(sandbox.describe()).toMatch(/^process sandbox \(NOT isolated\)/);
  });

  it('passes and fails HumanEval solutions like the Docker sandbox', async () => {
    const [right, wrong] = await Promise.all([
      sandbox.run(
        job({ runner: 'humaneval', code: 'def double(x):\n    return 2 * x\n', tests: CHECK, entryPoint: 'double' }),
      ),
      sandbox.run(
        job({ runner: 'humaneval', code: 'def double(x):\n    return x + 1\n', tests: CHECK, entryPoint: 'double' }),
      ),
    ]);
    expect(right).toMatchObject({ verdict: 'passed', passed: true, sandbox: 'process' });
    expect(wrong).toMatchObject({ verdict: 'failed', passed: false, sandbox: 'process' });
  });

  it('runs a multi-file project like the Docker sandbox', async () => {
    const result = await sandbox.run({
      jobId: `process-${++counter}`,
      runner: 'project',
      timeoutMs: 20_000,
      files: {
        'pkg/__init__.py': '',
        'pkg/double.py': 'def double(x):\n    return 2 * x\n',
        'tests/test_double.py': 'from pkg.double import double\n\ndef test_two():\n    assert double(2) == 4\n',
      },
    });
    expect(result).toMatchObject({ verdict: 'passed', sandbox: 'process', integrity: 'in-process' });
    expect(result.tests.map((t) => t.name)).toEqual(['tests/test_double.py::test_two']);
  });

  it('does not pass a program that exits before the checks', async () => {
    const result = await sandbox.run(
      job({
        runner: 'humaneval',
        code: 'import os\ndef double(x):\n    os._exit(0)\n',
        tests: CHECK,
        entryPoint: 'double',
      }),
    );
    expect(result).toMatchObject({ verdict: 'failed', reason: 'exit_before_checks' });
  });

  it('reports syntax errors', async () => {
    const result = await sandbox.run(
      job({ runner: 'mbpp', code: 'def double(x) return x', tests: 'assert double(2) == 4' }),
    );
    expect(result).toMatchObject({ verdict: 'error', reason: 'syntax_error' });
  });

  it('times out a non-terminating program and stays usable', async () => {
    const result = await sandbox.run(
      job({ runner: 'mbpp', code: 'while True:\n    pass\n', tests: 'assert True', timeoutMs: 1_000 }),
    );
    expect(result).toMatchObject({ verdict: 'timeout', reason: 'wall_clock' });
    const next = await sandbox.run(
      job({
        runner: 'mbpp',
        code: 'def double(x):\n    return 2 * x\n',
        tests: 'assert double(2) == 4\nassert double(0) == 0',
      }),
    );
    expect(next).toMatchObject({ verdict: 'passed' });
    expect(next.tests.map((t) => t.name)).toEqual(['test_0', 'test_1']);
  });

  it('applies the memory limit, and calls it oom only when the memory was used', async () => {
    const hog = 'blocks = []\nwhile True:\n    blocks.append(bytearray(16 * 1024 * 1024))\n';
    expect(await sandbox.run(job({ runner: 'mbpp', code: hog, tests: 'assert True' }))).toMatchObject({
      verdict: 'oom',
    });
    // One refused allocation is an exception like any other: failed, not oom.
    const refused = await sandbox.run(
      job({ runner: 'mbpp', code: 'x = bytearray(8 * 1024 ** 3)\n', tests: 'assert True' }),
    );
    expect(refused).toMatchObject({ verdict: 'failed', reason: 'memory_error' });
  });

  it("gives each job its own directory and none of the evaluator's environment", async () => {
    // The sandbox was created while this secret was in our environment.
    const code =
      'import os\nprint("cwd=" + os.getcwd())\ndef leaked():\n    return "EVALFLEET_TEST_SECRET" in os.environ\n';
    const runs = await Promise.all(
      [1, 2].map(() => sandbox.run(job({ runner: 'mbpp', code, tests: 'assert not leaked()' }))),
    );
    expect(runs.map((r) => r.verdict)).toEqual(['passed', 'passed']);
    const dirs = runs.map((r) => /cwd=(\S+)/.exec(r.stdout)?.[1]);
    expect(dirs[0]).toMatch(/evalfleet-job-/);
    expect(dirs[1]).toMatch(/evalfleet-job-/);
    expect(dirs[0]).not.toBe(dirs[1]);
  });

  it('runs unittest suites', async () => {
    const result = await sandbox.run(
      job({ runner: 'unittest', code: 'def double(x):\n    return 2 * x\n', tests: UNITTEST_SUITE }),
    );
    expect(result).toMatchObject({
      verdict: 'passed',
      tests: [expect.objectContaining({ name: 'test_solution.T.test_two', outcome: 'passed' })],
    });
  });

  // A candidate is forked from the zygote, so its sys.modules shows what the zygote had imported. Modules that
  // register at-fork handlers (random, threading) make every fork dearer: they come in with the first suite.
  it('forks HumanEval jobs from a zygote without at-fork handlers, and loads the suites on demand', async () => {
    const single = createProcessSandbox({ python: PYTHON, concurrency: 1, logger });
    // typing: HumanEval's prompts import it; ast: Python 3.11's tracebacks do (a failing sample's).
    const watched = ['typing', 'ast', 'random', 'threading', 'efsbx_suites', 'pytest'];
    const probe = async (): Promise<string[]> => {
      const code = `import sys\nprint("loaded=" + ",".join(m for m in ${JSON.stringify(watched)} if m in sys.modules))\ndef double(x):\n    return 2 * x\n`;
      const result = await single.run(job({ runner: 'humaneval', code, tests: CHECK, entryPoint: 'double' }));
      expect(result.verdict).toBe('passed');
      return /loaded=(\S*)/.exec(result.stdout)?.[1]?.split(',') ?? [];
    };
    const suite = 'from solution import double\n\ndef test_two():\n    assert double(2) == 4\n';
    try {
      expect(await probe()).toEqual(['typing', 'ast']);
      const unittest = await single.run(
        job({ runner: 'unittest', code: 'def double(x):\n    return 2 * x\n', tests: UNITTEST_SUITE }),
      );
      expect(unittest.verdict).toBe('passed');
      expect(await probe()).toEqual(['typing', 'ast', 'random', 'threading', 'efsbx_suites']);
      const pytest = await single.run(
        job({ runner: 'pytest', code: 'def double(x):\n    return 2 * x\n', tests: suite }),
      );
      expect(pytest.verdict).toBe('passed');
      expect(await probe()).toEqual(watched);
    } finally {
      await single.close();
    }
  });
});
