import { describe, expect, it } from 'vitest';
import {
  datasetId,
  detectFormat,
  listCategories,
  mbppEntryPoint,
  parseProblemSet,
  selectProblems,
  type Problem,
} from './index.js';

const native = (fields: Record<string, unknown>) =>
  JSON.stringify({
    task_id: 'strings/upper',
    entry_point: 'upper',
    problem: 'Upper-case it.',
    tests: 'from solution import upper\n',
    category: 'strings',
    ...fields,
  });

describe('parseProblemSet: native', () => {
  it('normalizes a record with defaults', () => {
    const { format, problems, errors } = parseProblemSet(
      `${native({ complexity: 2, reference_solution: 'def upper(s):\n    return s.upper()\n' })}\n`,
    );
    expect(format).toBe('native');
    expect(errors).toEqual([]);
    expect(problems).toEqual([
      {
        taskId: 'strings/upper',
        entryPoint: 'upper',
        prompt: 'Upper-case it.',
        tests: 'from solution import upper\n',
        testFormat: 'pytest',
        category: 'strings',
        complexity: '2',
        referenceSolution: 'def upper(s):\n    return s.upper()\n',
        referenceMode: 'full',
        source: 'native',
      },
    ]);
  });

  it('keeps good records and names the line of each bad one', () => {
    const text = [
      native({ task_id: 'a' }),
      '',
      '{"task_id": "b", "entry_point": "f", "problem": "x"', // truncated JSON
      native({ task_id: 'c', tests: undefined }),
      native({ task_id: 'a' }), // duplicate
      native({ task_id: 'd', entry_point: 'not an identifier' }),
      '[1, 2]',
      native({ task_id: 'e f' }),
      native({ task_id: 'g', test_format: 'doctest' }),
      native({ task_id: 'h' }),
    ].join('\n');
    const { problems, errors } = parseProblemSet(text);
    expect(problems.map((p) => p.taskId)).toEqual(['a', 'h']);
    expect(errors.map((e) => e.line)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    expect(errors[0]!.message).toMatch(/^invalid JSON/);
    expect(errors[1]!.message).toBe("missing field 'tests'");
    expect(errors[2]!.message).toBe("duplicate task_id 'a' (first on line 1)");
    expect(errors[3]!.message).toContain("field 'entry_point'");
    expect(errors[4]!.message).toBe('expected a JSON object');
    expect(errors[5]!.message).toContain("field 'task_id'");
    expect(errors[6]!.message).toContain("field 'test_format'");
  });

  it('accepts aliases, numeric ids, test lists, CRLF and a BOM', () => {
    const record = JSON.stringify({
      task_id: 7,
      name: 'area',
      problem: 'Area.',
      tests: ['assert area(2) == 4', 'assert area(0) == 0'],
      test_format: 'mbpp',
      canonical_solution: 'def area(s):\n    return s * s\n',
    });
    const { problems, errors } = parseProblemSet(`\uFEFF${record}\r\n`);
    expect(errors).toEqual([]);
    expect(problems[0]).toMatchObject({
      taskId: '7',
      entryPoint: 'area',
      tests: 'assert area(2) == 4\nassert area(0) == 0',
      category: 'uncategorized',
      referenceMode: 'full',
    });
  });

  it('reads a JSON array and reports errors at the line where the element starts', () => {
    const text = `[\n  ${native({ task_id: 'a' })},\n  {\n    "task_id": "b",\n    "problem": "no tests"\n  },\n  ${native({ task_id: 'c' })}\n]\n`;
    const { problems, errors } = parseProblemSet(text);
    expect(problems.map((p) => p.taskId)).toEqual(['a', 'c']);
    expect(errors).toEqual([{ line: 3, message: "missing field 'tests'" }]);
  });

  it('reports an unreadable JSON array as one error', () => {
    const { problems, errors } = parseProblemSet('[{"task_id": "a"},');
    expect(problems).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.line).toBe(1);
  });
});

describe('parseProblemSet: HumanEval and MBPP', () => {
  const he = {
    task_id: 'HumanEval/0',
    prompt: 'from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """Sum."""\n',
    canonical_solution: '    return sum(xs)\n',
    test: '\n\ndef check(candidate):\n    assert candidate([1, 2]) == 3\n',
    entry_point: 'total',
  };

  it('keeps the HumanEval prompt as the code a completion continues', () => {
    const { format, problems, errors } = parseProblemSet(JSON.stringify(he));
    expect(format).toBe('humaneval');
    expect(errors).toEqual([]);
    expect(problems[0]).toEqual({
      taskId: 'HumanEval/0',
      entryPoint: 'total',
      prompt: he.prompt,
      tests: he.test,
      testFormat: 'humaneval',
      category: 'HumanEval',
      referenceSolution: he.canonical_solution,
      referenceMode: 'completion',
      signature: 'def total(xs: List[int]) -> int:',
      starterCode: he.prompt,
      source: 'humaneval',
    });
  });

  it('derives the MBPP entry point from the first assert and keeps challenge tests apart', () => {
    const record = {
      task_id: 17,
      text: 'Write a function to find the perimeter of a square.',
      code: 'def square_perimeter(a):\r\n  return 4*a',
      test_list: ['assert square_perimeter(10)==40', 'assert square_perimeter(5)==20'],
      test_setup_code: '',
      challenge_test_list: ['assert square_perimeter(0)==0'],
    };
    const { format, problems, errors } = parseProblemSet(JSON.stringify(record));
    expect(format).toBe('mbpp');
    expect(errors).toEqual([]);
    expect(problems[0]).toMatchObject({
      taskId: 'Mbpp/17',
      entryPoint: 'square_perimeter',
      tests: 'assert square_perimeter(10)==40\nassert square_perimeter(5)==20',
      challengeTests: 'assert square_perimeter(0)==0',
      testFormat: 'mbpp',
      category: 'Mbpp',
      referenceMode: 'full',
      source: 'mbpp',
    });
    expect(problems[0]!.prompt).toBe(
      'Write a function to find the perimeter of a square.\nYour code should pass these tests:\n\nassert square_perimeter(10)==40\nassert square_perimeter(5)==20\n',
    );
    expect(problems[0]!.setupCode).toBeUndefined();
  });

  it('finds the function under wrappers such as set(...) and math.isclose(...)', () => {
    expect(mbppEntryPoint(['assert set(similar(a, b)) == set((1,))'], 'def similar(x, y):\n  pass')).toBe('similar');
    expect(mbppEntryPoint(['assert math.isclose(area(2), 12.5, rel_tol=0.001)'])).toBe('area');
    expect(mbppEntryPoint(['assert sorted(top(xs)) == [1]'])).toBe('top');
    expect(mbppEntryPoint(['assert True'])).toBeUndefined();
  });

  it('detects each format from the first record that has telling fields', () => {
    expect(detectFormat(he)).toBe('humaneval');
    expect(detectFormat({ text: 'x', test_list: [] })).toBe('mbpp');
    expect(detectFormat({ problem: 'x', tests: 'y' })).toBe('native');
    expect(detectFormat({ hello: 1 })).toBeUndefined();
    const text = ['not json', JSON.stringify({ hello: 1 }), JSON.stringify(he)].join('\n');
    const parsed = parseProblemSet(text);
    expect(parsed.format).toBe('humaneval');
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.errors.map((e) => e.line)).toEqual([1, 2]);
  });

  it('uses the format option instead of guessing', () => {
    const { problems, errors } = parseProblemSet(JSON.stringify(he), { format: 'native' });
    expect(problems).toEqual([]);
    expect(errors[0]!.message).toContain("missing field 'problem'");
  });
});

describe('selectProblems', () => {
  const problem = (taskId: string, category: string): Problem => ({
    taskId,
    category,
    entryPoint: 'f',
    prompt: 'p',
    tests: 't',
    testFormat: 'pytest',
    source: 'native',
  });
  const set = [
    problem('s1', 'strings'),
    problem('m1', 'math'),
    problem('s2', 'strings'),
    problem('c1', 'collections'),
    problem('m2', 'math'),
  ];

  it('filters by category, task id, per-category count and limit, keeping file order', () => {
    expect(selectProblems(set).map((p) => p.taskId)).toEqual(['s1', 'm1', 's2', 'c1', 'm2']);
    expect(selectProblems(set, { categories: ['math', 'strings'] }).map((p) => p.taskId)).toEqual([
      's1',
      'm1',
      's2',
      'm2',
    ]);
    expect(selectProblems(set, { taskIds: ['m2', 's1'] }).map((p) => p.taskId)).toEqual(['s1', 'm2']);
    expect(selectProblems(set, { perCategory: 1 }).map((p) => p.taskId)).toEqual(['s1', 'm1', 'c1']);
    expect(selectProblems(set, { categories: ['math', 'strings'], limit: 3 }).map((p) => p.taskId)).toEqual([
      's1',
      'm1',
      's2',
    ]);
    expect(selectProblems(set, { limit: 0 })).toEqual([]);
  });

  it('lists categories with counts', () => {
    expect(listCategories(set)).toEqual([
      { category: 'collections', problems: 1 },
      { category: 'math', problems: 2 },
      { category: 'strings', problems: 2 },
    ]);
  });
});

describe('datasetId', () => {
  it('is a stable sha256 prefix of the exact content', () => {
    expect(datasetId('abc')).toBe('ba7816bf8f01cfea');
    expect(datasetId(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea');
    expect(datasetId('abc\n')).not.toBe(datasetId('abc'));
  });
});
