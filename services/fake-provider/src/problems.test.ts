import { describe, expect, it } from 'vitest';
import { findProblem, parseProblems } from './problems.js';
import { sampleProblemsJsonl } from './sample-problems.js';

describe('parseProblems', () => {
  it('joins a HumanEval prompt with its body-only canonical solution', () => {
    const [problem] = parseProblems(
      JSON.stringify({
        task_id: 'HumanEval/0',
        prompt: 'def f(x):\n    """doc"""\n',
        canonical_solution: '    return x\n',
        entry_point: 'f',
      }),
    );
    expect(problem).toEqual({
      taskId: 'HumanEval/0',
      entryPoint: 'f',
      solution: 'def f(x):\n    """doc"""\n    return x\n',
    });
  });

  it('takes full code as is, numeric ids as strings, and infers a missing entry point', () => {
    const text = [
      JSON.stringify({ task_id: 11, code: 'import math\ndef area(r):\n    return math.pi * r * r\n' }),
      '',
      JSON.stringify({
        task_id: 'x/1',
        reference_solution: 'def g():\n    return 1\n',
        entry_point: 'g',
        prompt: 'ignored',
      }),
    ].join('\n');
    const problems = parseProblems(text);
    expect(problems.map((p) => [p.taskId, p.entryPoint])).toEqual([
      ['11', 'area'],
      ['x/1', 'g'],
    ]);
    expect(problems[1]?.solution).toBe('def g():\n    return 1\n');
  });

  it('says which line is wrong', () => {
    expect(() => parseProblems('{"task_id": "a", "code": "def a(): pass"}\n{oops')).toThrow(/line 2: not JSON/);
    expect(() => parseProblems('{"code": "def a(): pass"}')).toThrow(/line 1: missing task_id/);
    expect(() => parseProblems('{"task_id": "t"}')).toThrow(/line 1 \(t\): missing a reference solution/);
  });

  it('parses the sample set', () => {
    const problems = parseProblems(sampleProblemsJsonl);
    expect(problems).toHaveLength(10);
    expect(new Set(problems.map((p) => p.taskId)).size).toBe(10);
  });
});

describe('findProblem', () => {
  const problems = parseProblems(sampleProblemsJsonl);

  it('prefers the Task line, in any of the usual decorations', () => {
    expect(findProblem(problems, 'Solve this.\nTask: sample/4\nmentions fib and add')?.taskId).toBe('sample/4');
    expect(findProblem(problems, '**Task:** x\n- Task: `sample/2`\n')?.taskId).toBe('sample/2');
  });

  it('falls back to the longest entry point named as a word', () => {
    expect(findProblem(problems, 'Write is_palindrome(text) please')?.taskId).toBe('sample/1');
    expect(findProblem(problems, 'Task: unknown/9\ndef running_max(numbers): ...')?.taskId).toBe('sample/3');
    expect(findProblem(problems, 'the address book')).toBeUndefined();
    expect(findProblem(problems, 'nothing here')).toBeUndefined();
  });
});
