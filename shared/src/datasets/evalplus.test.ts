import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  arrayElements,
  checkPythonJson,
  detectFormat,
  evalplusReferenceProgram,
  objectMembers,
  parseProblemSet,
  type Problem,
} from './index.js';

// Written as Python's json.dumps writes it: integers beyond 2^53, NaN and Infinity as bare tokens.
const record = (fields: Record<string, string> = {}) => {
  const base = {
    task_id: '"HumanEval/0"',
    prompt: JSON.stringify('def f(x, y):\n    """Add."""\n'),
    entry_point: '"f"',
    canonical_solution: JSON.stringify('    return x + y\n'),
    base_input: '[[1, 2], [12345678901234567890123, 1]]',
    plus_input: '[[NaN, 1.5], [-Infinity, "a,]\\"b"], [Infinity, {"k": [1, {"n": 2}]}]]',
    atol: '0',
    contract: JSON.stringify('\n    assert isinstance(x, (int, float)), "invalid inputs" # $_CONTRACT_$\n'),
    ...fields,
  };
  return `{${Object.entries(base)
    .map(([k, v]) => `"${k}": ${v}`)
    .join(', ')}}`;
};

describe('raw JSON helpers', () => {
  it('find members and elements as their own text, strings and nesting included', () => {
    const text = '{"a": [1, "x]}", {"b": 2}], "c" : 12345678901234567890123 , "d": "}"}';
    const members = objectMembers(text);
    expect([...members.keys()]).toEqual(['a', 'c', 'd']);
    const span = (key: string) => text.slice(members.get(key)!.start, members.get(key)!.end);
    expect(span('a')).toBe('[1, "x]}", {"b": 2}]');
    expect(span('c')).toBe('12345678901234567890123');
    expect(arrayElements(span('a'))).toEqual(['1', '"x]}"', '{"b": 2}']);
    expect(arrayElements(' [ ] ')).toEqual([]);
    expect(() => objectMembers('{"a": [1, 2}')).toThrow(SyntaxError);
    expect(() => objectMembers('{"a": 1} trailing')).toThrow(SyntaxError);
    expect(() => arrayElements('[1, 2')).toThrow(SyntaxError);
  });

  it("accepts Python's NaN and Infinity outside strings only", () => {
    expect(() => checkPythonJson('[NaN, -Infinity, Infinity, "NaN"]')).not.toThrow();
    expect(() => checkPythonJson('[nan]')).toThrow(SyntaxError);
    expect(() => checkPythonJson('[NaNa]')).toThrow(SyntaxError);
    expect(() => checkPythonJson('[1,]')).toThrow(SyntaxError);
  });
});

describe('parseProblemSet: EvalPlus', () => {
  it('keeps each input as its own text (big integers, NaN, Infinity untouched)', () => {
    const { format, problems, errors } = parseProblemSet(`${record()}\n`);
    expect(errors).toEqual([]);
    expect(format).toBe('evalplus');
    const [p] = problems as [Problem];
    expect(p).toMatchObject({
      taskId: 'HumanEval/0',
      entryPoint: 'f',
      testFormat: 'evalplus',
      category: 'HumanEval',
      referenceSolution: '    return x + y\n',
      referenceMode: 'completion',
      starterCode: 'def f(x, y):\n    """Add."""\n',
      signature: 'def f(x, y):',
      source: 'evalplus',
    });
    expect(p.evalplus).toEqual({
      dataset: 'humaneval',
      baseInputs: ['[1, 2]', '[12345678901234567890123, 1]'],
      plusInputs: ['[NaN, 1.5]', '[-Infinity, "a,]\\"b"]', '[Infinity, {"k": [1, {"n": 2}]}]'],
      atol: 0,
      contract: '\n    assert isinstance(x, (int, float)), "invalid inputs" # $_CONTRACT_$\n',
    });
    expect(p.tests).toContain('2 base and 3 plus inputs');
  });

  it('is detected before MBPP and HumanEval fields, and names the line of each bad record', () => {
    expect(detectFormat({ base_input: [], canonical_solution: '', test_list: [], test: '' })).toBe('evalplus');
    const text = [
      record({ task_id: '"Mbpp/2"', test_list: '["assert True"]' }),
      record({ task_id: '"x/1"', base_input: '[1, [2]]' }),
      record({ task_id: '"x/2"', plus_input: '[[nan]]' }),
      record({ task_id: '"x/3"', atol: '-1' }),
      record({ task_id: '"x/4"', entry_point: '3' }),
      '{"task_id": "x/5", "prompt": "broken',
      '',
      record({ task_id: '"Mbpp/2"' }),
      record({ task_id: '7', plus_input: '[]', contract: '""' }),
    ].join('\n');
    const { format, problems, errors } = parseProblemSet(text);
    expect(format).toBe('evalplus');
    expect(problems.map((p) => [p.taskId, p.evalplus?.dataset])).toEqual([
      ['Mbpp/2', 'mbpp'],
      ['7', 'custom'],
    ]);
    expect(errors).toEqual([
      { line: 2, message: "field 'base_input': input 0 is not a list of arguments" },
      { line: 3, message: expect.stringContaining("field 'plus_input'") },
      { line: 4, message: "field 'atol' must be a number >= 0" },
      { line: 5, message: "field 'entry_point' must be a string" },
      { line: 6, message: expect.stringContaining('invalid JSON') },
      { line: 8, message: "duplicate task_id 'Mbpp/2' (first on line 1)" },
    ]);
  });

  it('reads the bundled mini set: six tasks, gzipped the same once decompressed', async () => {
    const text = await readFile(new URL('../../../datasets/evalplus-mini.jsonl', import.meta.url), 'utf8');
    const { problems, errors } = parseProblemSet(text);
    expect(errors).toEqual([]);
    expect(problems.map((p) => p.entryPoint)).toEqual([
      'mean_of_squares',
      'digit_sum',
      'slow_double',
      'is_prime',
      'sorted_pair',
      'approx_sqrt',
    ]);
    expect(problems[4]!.evalplus!.plusInputs[0]).toBe('[[12345678901234567890123, -98765432109876543210, 7]]');
    expect(problems[5]!.evalplus).toMatchObject({ atol: 0.001, baseInputs: ['[4.0]', '[2.0]', '[Infinity]'] });
    const gz = await readFile(new URL('../../../datasets/evalplus-mini.jsonl.gz', import.meta.url));
    expect(gunzipSync(gz).toString('utf8')).toBe(text);
  });
});

describe('evalplusReferenceProgram', () => {
  const problem = (fields: Partial<Problem>, contract: string, dataset: 'humaneval' | 'mbpp' | 'custom'): Problem => ({
    taskId: 't',
    entryPoint: 'f',
    prompt: '',
    tests: 'x',
    testFormat: 'evalplus',
    category: 'c',
    source: 'evalplus',
    evalplus: { dataset, baseInputs: [], plusInputs: [], atol: 0, contract },
    ...fields,
  });
  const contract = '\n    assert x > 0  # $_CONTRACT_$\n';

  it("puts HumanEval+'s contract between the prompt and the body", () => {
    const p = problem(
      { starterCode: 'def f(x):\n    """doc"""\n', referenceSolution: '    return x\n' },
      contract,
      'humaneval',
    );
    expect(evalplusReferenceProgram(p, false)).toBe('def f(x):\n    """doc"""\n    return x\n');
    expect(evalplusReferenceProgram(p, true)).toBe(`def f(x):\n    """doc"""\n${contract}    return x\n`);
    expect(evalplusReferenceProgram({ ...p, evalplus: { ...p.evalplus!, contract: ' ' } }, true)).toBeUndefined();
  });

  it("puts MBPP+'s contract after the def line of the canonical solution", () => {
    const p = problem(
      { starterCode: '"""doc"""\n', referenceSolution: 'import math\ndef f(x):\n    return x\n' },
      contract,
      'mbpp',
    );
    expect(evalplusReferenceProgram(p, true)).toBe(`"""doc"""\nimport math\ndef f(x):\n${contract}\n    return x\n`);
    const nested = { ...p, referenceSolution: 'class A:\n    def f(self, x):\n        return x\n' };
    expect(evalplusReferenceProgram(nested, true)).toBeUndefined();
    // A set of our own: HumanEval's way when the prompt defines the function, MBPP's otherwise.
    expect(evalplusReferenceProgram({ ...p, evalplus: { ...p.evalplus!, dataset: 'custom' } }, true)).toBe(
      evalplusReferenceProgram(p, true),
    );
  });
});
