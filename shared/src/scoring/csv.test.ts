import { describe, expect, it } from 'vitest';
import {
  groupByModelCategory,
  pathSegment,
  resultRowSchema,
  resultRowsToCsv,
  toCsv,
  toJsonl,
  type ResultRow,
} from './index.js';

describe('toCsv', () => {
  it('quotes only what RFC 4180 requires and ends lines with CRLF', () => {
    const csv = toCsv([
      { a: 'plain', b: 'with,comma', c: 'say "hi"' },
      { a: 'two\nlines', b: 3, c: true },
      { a: undefined, b: null, c: { x: [1, 2] } },
    ]);
    expect(csv).toBe(
      'a,b,c\r\n' + 'plain,"with,comma","say ""hi"""\r\n' + '"two\nlines",3,true\r\n' + ',,"{""x"":[1,2]}"\r\n',
    );
  });

  it('uses the union of keys in first-seen order, or the columns given', () => {
    expect(toCsv([{ b: 1 }, { a: 2, b: 3 }])).toBe('b,a\r\n1,\r\n3,2\r\n');
    expect(toCsv([{ b: 1, a: 2, z: 9 }], ['a', 'b'])).toBe('a,b\r\n2,1\r\n');
    expect(toCsv([], ['a'])).toBe('a\r\n');
  });

  it('writes result rows with the standard columns, code included', () => {
    const rows: ResultRow[] = [
      {
        runId: 'r',
        taskId: 't/1',
        model: 'm',
        sampleIndex: 0,
        category: 'c',
        verdict: 'passed',
        passed: true,
        code: 'def f():\n    return "x, y"\n',
        tests: [{ name: 'test_a', outcome: 'passed' }],
        integrity: 'checker',
      },
    ];
    const csv = resultRowsToCsv(rows);
    const [header, first] = csv.split('\r\n');
    expect(header).toBe(
      'runId,model,category,taskId,sampleIndex,verdict,passed,extraction,reason,promptTokens,completionTokens,costUsd,latencyMs,durationMs,cached,integrity,tests,code',
    );
    expect(first).toBe(
      'r,m,c,t/1,0,passed,true,,,,,,,,,checker,"[{""name"":""test_a"",""outcome"":""passed""}]","def f():\n    return ""x, y""\n"',
    );
  });
});

describe('toJsonl', () => {
  it('writes one newline-terminated document per row', () => {
    expect(toJsonl([{ a: 1 }, { b: 'x\ny' }])).toBe('{"a":1}\n{"b":"x\\ny"}\n');
    expect(toJsonl([])).toBe('');
  });
});

describe('groupByModelCategory', () => {
  const base = { runId: 'r', passed: false, verdict: 'failed' as const };
  it('groups per model and category in a stable order', () => {
    const rows: ResultRow[] = [
      { ...base, model: 'b', category: 'math', taskId: 'math/10', sampleIndex: 0 },
      { ...base, model: 'a', category: 'strings', taskId: 'strings/1', sampleIndex: 1 },
      { ...base, model: 'b', category: 'math', taskId: 'math/2', sampleIndex: 0 },
      { ...base, model: 'a', category: 'strings', taskId: 'strings/1', sampleIndex: 0 },
      { ...base, model: 'a', category: 'math', taskId: 'math/1', sampleIndex: 0 },
    ];
    const groups = groupByModelCategory(rows);
    expect(groups.map((g) => [g.model, g.category, g.rows.map((r) => `${r.taskId}#${r.sampleIndex}`)])).toEqual([
      ['a', 'math', ['math/1#0']],
      ['a', 'strings', ['strings/1#0', 'strings/1#1']],
      ['b', 'math', ['math/2#0', 'math/10#0']],
    ]);
  });
});

describe('pathSegment', () => {
  it('makes names safe and keeps them distinct', () => {
    expect(pathSegment('gpt-4o')).toBe('gpt-4o');
    expect(pathSegment('openai/gpt-4o')).toBe('openai%2Fgpt-4o');
    expect(pathSegment('openai_gpt-4o')).toBe('openai_gpt-4o');
    expect(pathSegment('..')).toBe('%2E.');
    expect(pathSegment('naïve model')).toBe('na%C3%AFve%20model');
  });
});

describe('resultRowSchema', () => {
  it('accepts a full row and rejects an unknown verdict', () => {
    const ok = {
      runId: 'r',
      taskId: 't',
      model: 'm',
      sampleIndex: 2,
      category: 'c',
      verdict: 'oom',
      passed: false,
      durationMs: 12,
      cached: false,
    };
    expect(resultRowSchema.parse(ok)).toEqual(ok);
    expect(resultRowSchema.safeParse({ ...ok, verdict: 'crashed' }).success).toBe(false);
    expect(resultRowSchema.safeParse({ ...ok, sampleIndex: -1 }).success).toBe(false);
  });
});
