import { describe, expect, it } from 'vitest';
import { buildProgram, buildSolution, starterPreamble, type Problem } from './index.js';

const base: Problem = {
  taskId: 't',
  entryPoint: 'f',
  prompt: 'p',
  tests: 'from solution import f\n\ndef test_f():\n    assert f() == 1',
  testFormat: 'pytest',
  category: 'c',
  source: 'native',
};

describe('buildProgram', () => {
  it('writes solution.py and test_solution.py for pytest and unittest', () => {
    expect(buildProgram({ ...base, setupCode: 'import os\n' }, 'def f():\n    return 1', 'full')).toEqual({
      runner: 'pytest',
      files: { 'solution.py': 'import os\n\ndef f():\n    return 1\n', 'test_solution.py': `${base.tests}\n` },
      mainFile: 'solution.py',
      argv: ['python3', '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'test_solution.py'],
      env: { PYTHONDONTWRITEBYTECODE: '1', PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1' },
    });
    expect(buildProgram({ ...base, testFormat: 'unittest' }, 'def f(): return 1\n', 'full').argv).toEqual([
      'python3',
      '-m',
      'unittest',
      '-v',
      'test_solution',
    ]);
  });

  it('runs MBPP asserts after the code and then the setup code, challenge tests only on request', () => {
    const p: Problem = {
      ...base,
      testFormat: 'mbpp',
      tests: 'assert f() == 1\nassert f() != 2',
      setupCode: 'import math',
      challengeTests: 'assert f() > 0',
      source: 'mbpp',
    };
    expect(buildProgram(p, 'def f():\n    return 1\n', 'full').files['program.py']).toBe(
      'def f():\n    return 1\n\nimport math\n\nassert f() == 1\nassert f() != 2\n',
    );
    expect(
      buildProgram(p, 'def f():\n    return 1\n', 'full', { includeChallengeTests: true }).files['program.py'],
    ).toContain('assert f() != 2\nassert f() > 0\n');
  });

  it('appends a completion to the starter code, or keeps only the preamble for a full answer', () => {
    const starter = 'import math\n\n\ndef helper(x):\n    return x\n\n\n@cache\ndef f(n):\n    """Doc."""\n';
    const p: Problem = {
      ...base,
      testFormat: 'humaneval',
      tests: 'def check(candidate):\n    assert candidate(1) == 1\n',
      starterCode: starter,
      source: 'humaneval',
    };
    expect(buildSolution(p, '    return n\n', 'completion')).toBe(`${starter}    return n\n`);
    expect(buildSolution(p, 'def f(n):\n    return n\n', 'full')).toBe(
      'import math\n\n\ndef helper(x):\n    return x\n\n\ndef f(n):\n    return n\n',
    );
    expect(starterPreamble('def f(n):\n    """Doc."""\n', 'f')).toBe('');
    expect(starterPreamble('x = 1\n', 'f')).toBe('');
    expect(buildSolution({ ...base }, 'def f(): pass\n', 'completion')).toBe('def f(): pass\n');
  });
});
