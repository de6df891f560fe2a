import { describe, expect, it } from 'vitest';
import { conditionPaths, evaluateCondition, parseCondition } from './condition.js';

const context = {
  severity: 3,
  title: 'crash on load',
  labels: ['bug', 'gpu'],
  meta: { repo: 'vllm' },
  stages: {
    classify: { is_bug: true, confidence: 0.82, kind: 'crash' },
    skipped: null,
  },
};

const holds = (src: string) => evaluateCondition(parseCondition(src), context);

describe('when conditions', () => {
  it('compares earlier answers and record fields', () => {
    expect(holds('stages.classify.is_bug == true')).toBe(true);
    expect(holds('stages.classify.is_bug != true')).toBe(false);
    expect(holds('stages.classify.confidence >= 0.8')).toBe(true);
    expect(holds('stages.classify.confidence < 0.5')).toBe(false);
    expect(holds("stages.classify.kind == 'crash'")).toBe(true);
    expect(holds('stages.classify.kind == "hang"')).toBe(false);
    expect(holds('severity > 2 && meta.repo == "vllm"')).toBe(true);
    expect(holds('severity > 5 || title == "crash on load"')).toBe(true);
    expect(holds('labels.1 == "gpu"')).toBe(true);
  });

  it('has not, and/or words, precedence and parentheses', () => {
    expect(holds('not stages.classify.is_bug')).toBe(false);
    expect(holds('!(severity > 5)')).toBe(true);
    expect(holds('severity > 5 or severity == 3 and title == "x"')).toBe(false);
    expect(holds('(severity > 5 or severity == 3) and title == "crash on load"')).toBe(true);
    expect(holds('not severity == 4')).toBe(true);
  });

  it('has in and not in over lists and strings', () => {
    expect(holds('"gpu" in labels')).toBe(true);
    expect(holds('"cpu" not in labels')).toBe(true);
    expect(holds("stages.classify.kind in ['crash', 'hang']")).toBe(true);
    expect(holds('"load" in title')).toBe(true);
    expect(holds('severity in [1, 2]')).toBe(false);
  });

  it('treats what is missing as null: a skipped stage makes the condition false', () => {
    expect(holds('stages.skipped.is_bug == true')).toBe(false);
    expect(holds('stages.nothing.is_bug')).toBe(false);
    expect(holds('stages.skipped == null')).toBe(true);
    expect(holds('missing == null')).toBe(true);
    // Ordering with a missing side is false both ways.
    expect(holds('missing < 1')).toBe(false);
    expect(holds('missing >= 1')).toBe(false);
    expect(holds('severity < "4"')).toBe(false);
  });

  it('uses truthiness for bare values', () => {
    expect(holds('labels')).toBe(true);
    expect(holds('title')).toBe(true);
    expect(evaluateCondition(parseCondition('items'), { items: [] })).toBe(false);
    expect(evaluateCondition(parseCondition('n'), { n: 0 })).toBe(false);
    expect(evaluateCondition(parseCondition('s'), { s: '' })).toBe(false);
  });

  it('reads escapes and negative numbers', () => {
    expect(evaluateCondition(parseCondition("q == 'it\\'s'"), { q: "it's" })).toBe(true);
    expect(evaluateCondition(parseCondition('t > -1.5'), { t: -1 })).toBe(true);
  });

  it('names the paths it reads', () => {
    expect(conditionPaths(parseCondition('stages.a.x == 1 and (b in [c, 2] or not d)'))).toEqual([
      'stages.a.x',
      'b',
      'c',
      'd',
    ]);
  });

  it('rejects what it cannot parse, with the position', () => {
    expect(() => parseCondition('')).toThrow(/empty/);
    expect(() => parseCondition('a = 1')).toThrow(/use == .*at 2/);
    expect(() => parseCondition('a == ')).toThrow(/ends too early/);
    expect(() => parseCondition('(a == 1')).toThrow(/missing '\)'/);
    expect(() => parseCondition('a == 1 b')).toThrow(/unexpected 'b' at 7/);
    expect(() => parseCondition("a == 'open")).toThrow(/unterminated/);
    expect(() => parseCondition('a == 1 and')).toThrow(/ends too early/);
    expect(() => parseCondition('process.exit()')).toThrow(/unexpected '\(' at 12/);
    expect(() => parseCondition('a; b')).toThrow(/unexpected ';'/);
  });
});
