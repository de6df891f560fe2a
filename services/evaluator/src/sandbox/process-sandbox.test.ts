import { existsSync } from 'node:fs';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createProcessSandbox, type Sandbox, type SandboxJob, type SandboxLogger } from './index.js';

// The process sandbox needs a local Python 3; Debian's /usr/bin/python3 is what CI and this machine have.
const PYTHON = '/usr/bin/python3';
if (!existsSync(PYTHON) && process.env.CI) throw new Error(`process sandbox tests need ${PYTHON}`);

let counter = 0;
function job(fields: Omit<SandboxJob, 'jobId' | 'timeoutMs'> & { timeoutMs?: number }): SandboxJob {
  return { jobId: `process-${++counter}`, timeoutMs: 10_000, ...fields };
}
const CHECK = 'def check(candidate):\n    assert candidate(2) == 4\n';

describe.skipIf(!existsSync(PYTHON))('process sandbox', () => {
  let sandbox: Sandbox;
  const warnings: string[] = [];
  const logger: SandboxLogger = {
    info: () => undefined,
    warn: (_o, msg) => warnings.push(msg),
    error: (_o, msg) => warnings.push(msg),
  };

  beforeAll(() => {
    sandbox = createProcessSandbox({ python: PYTHON, concurrency: 2, logger });
  });

  afterAll(async () => {
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

  it('applies the memory limit', async () => {
    const result = await sandbox.run(
      job({ runner: 'mbpp', code: 'x = bytearray(8 * 1024 ** 3)\n', tests: 'assert True' }),
    );
    expect(result).toMatchObject({ verdict: 'oom' });
  });

  it('runs unittest suites', async () => {
    const tests =
      'import unittest\nfrom solution import double\n\nclass T(unittest.TestCase):\n    def test_two(self):\n        self.assertEqual(double(2), 4)\n';
    const result = await sandbox.run(job({ runner: 'unittest', code: 'def double(x):\n    return 2 * x\n', tests }));
    expect(result).toMatchObject({
      verdict: 'passed',
      tests: [expect.objectContaining({ name: 'test_solution.T.test_two', outcome: 'passed' })],
    });
  });
});
