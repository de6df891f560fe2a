import { describe, expect, it } from 'vitest';
import { parseSamples, sampleResultLine } from './index.js';

describe('parseSamples', () => {
  it('reads several samples per task and remembers their positions', () => {
    const text = [
      JSON.stringify({ task_id: 'HumanEval/0', completion: '    return 1\n', temperature: 0.8 }),
      JSON.stringify({ task_id: 'HumanEval/1', completion: '    return 2\n' }),
      '',
      JSON.stringify({ task_id: 'HumanEval/0', completion: '    return 3\n' }),
      JSON.stringify({ task_id: 'Mbpp/2', solution: 'def f():\n    return 4\n' }),
    ].join('\n');
    const { samples, errors } = parseSamples(text);
    expect(errors).toEqual([]);
    expect(samples.map((s) => [s.taskId, s.sampleIndex, s.lineIndex, s.mode])).toEqual([
      ['HumanEval/0', 0, 0, 'completion'],
      ['HumanEval/1', 0, 1, 'completion'],
      ['HumanEval/0', 1, 3, 'completion'],
      ['Mbpp/2', 0, 4, 'full'],
    ]);
    expect(samples[0]!.raw).toEqual({ task_id: 'HumanEval/0', completion: '    return 1\n', temperature: 0.8 });
    expect(samples[3]!.completion).toBe('def f():\n    return 4\n');
  });

  it('reports bad lines and keeps the rest', () => {
    const text = [
      '{"task_id": "a", "completion": "x"}',
      '{oops',
      '{"completion": "x"}',
      '{"task_id": "b"}',
      '"str"',
      '{"task_id": 5, "completion": ""}',
    ].join('\n');
    const { samples, errors } = parseSamples(text);
    expect(samples.map((s) => s.taskId)).toEqual(['a', '5']);
    expect(errors.map((e) => e.line)).toEqual([2, 3, 4, 5]);
    expect(errors[2]!.message).toContain('completion');
  });

  it('writes a result line as the original plus result and passed', () => {
    const { samples } = parseSamples('{"task_id": "HumanEval/3", "completion": "    pass\\n", "extra": [1]}');
    expect(sampleResultLine(samples[0]!, { result: 'failed: AssertionError', passed: false })).toBe(
      '{"task_id":"HumanEval/3","completion":"    pass\\n","extra":[1],"result":"failed: AssertionError","passed":false}',
    );
  });
});
