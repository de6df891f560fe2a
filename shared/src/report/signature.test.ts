import { describe, expect, it } from 'vitest';
import { clusterFailures } from './clusters.js';
import { failureSignature, maskLiterals } from './signature.js';

describe('maskLiterals', () => {
  it('masks numbers, strings, hex and paths, and keeps words', () => {
    expect(maskLiterals("KeyError: 'user_42'")).toBe('KeyError: <str>');
    expect(maskLiterals('expected 3 but got -4.5e3 in [1, 2]')).toBe('expected <num> but got <num> in [<num>, <num>]');
    expect(maskLiterals('<function f at 0x7f3a2c1d9e40>')).toBe('<function f at <hex>>');
    expect(maskLiterals('object deadbeef0123 is stale')).toBe('object <hex> is stale');
    expect(maskLiterals('No such file: /tmp/tmpa1b2/solution.py')).toBe('No such file: <path>');
    expect(maskLiterals('see C:\\work\\x\\y.py or ./data/in.txt')).toBe('see <path> or <path>');
    expect(maskLiterals('say "hi there"  and\n wait')).toBe('say <str> and wait');
  });

  it('leaves identifiers with digits, apostrophes and plain hex-looking words alone', () => {
    expect(maskLiterals("can't use test_3 or x2 on base64")).toBe("can't use test_3 or x2 on base64");
    expect(maskLiterals('accepted deadbeef')).toBe('accepted deadbeef');
  });
});

describe('failureSignature', () => {
  it('takes the exception line of a traceback and the failing test', () => {
    const text = [
      'Traceback (most recent call last):',
      '  File "/sandbox/job-17/check.py", line 12, in check',
      '    assert candidate(3) == 7',
      "KeyError: 'slug-3'",
    ].join('\n');
    const s = failureSignature({ text, test: 'test_slug_3', fallback: 'failed' });
    expect(s).toEqual({
      exceptionType: 'KeyError',
      message: '<str>',
      test: 'test_slug_3',
      key: 'KeyError | <str> | test_slug_3',
    });
  });

  it('gives two samples that differ only in values the same key', () => {
    const a = failureSignature({ text: 'AssertionError: expected 10, got 11', test: 'check', fallback: 'failed' });
    const b = failureSignature({ text: 'AssertionError: expected 7, got 2', test: 'check', fallback: 'failed' });
    const c = failureSignature({ text: 'AssertionError: expected 7, got 2', test: 'other', fallback: 'failed' });
    expect(a.key).toBe(b.key);
    expect(c.key).not.toBe(a.key);
  });

  it("reads pytest's report: the type from the last line, the message from the E lines", () => {
    const text = [
      '    def test_digital_root():',
      '>       assert digital_root(493193) == 2',
      'E       assert 3 == 2',
      'E        +  where 3 = digital_root(493193)',
      '',
      'test_solution.py:5: AssertionError',
    ].join('\n');
    expect(failureSignature({ text, test: 'test_digital_root', fallback: 'failed' })).toMatchObject({
      exceptionType: 'AssertionError',
      message: 'assert <num> == <num>',
      test: 'test_digital_root',
    });
    const short = [
      'test_solution.py:5: in test_disjoint',
      '    assert covered_length([(0, 2), (5, 6)]) == 3',
      'E   assert 4 == 3',
      'E    +  where 4 = covered_length([(0, 2), (5, 6)])',
    ].join('\n');
    expect(failureSignature({ text: short, test: 'test_solution.py::test_disjoint', fallback: 'failed' })).toEqual({
      exceptionType: 'AssertionError',
      message: 'assert <num> == <num>',
      test: 'test_solution.py::test_disjoint',
      key: 'AssertionError | assert <num> == <num> | test_solution.py::test_disjoint',
    });
    const typed = "E   TypeError: unsupported operand type(s) for +: 'int' and 'str'\n\nsolution.py:3: TypeError";
    expect(failureSignature({ text: typed, fallback: 'failed' })).toMatchObject({
      exceptionType: 'TypeError',
      message: 'unsupported operand type(s) for +: <str> and <str>',
      test: null,
    });
  });

  it('keeps dotted and custom exception names and takes the last of chained exceptions', () => {
    const text = [
      'ValueError: bad 1',
      '',
      'During handling of the above exception, another exception occurred:',
      '',
      'json.decoder.JSONDecodeError: Expecting value: line 1 column 5 (char 4)',
    ].join('\n');
    expect(failureSignature({ text, fallback: 'failed' })).toMatchObject({
      exceptionType: 'json.decoder.JSONDecodeError',
      message: 'Expecting value: line <num> column <num> (char <num>)',
    });
    expect(failureSignature({ text: 'StopIteration', fallback: 'failed' }).exceptionType).toBe('StopIteration');
  });

  it('falls back to the given name and the last line when no exception is named', () => {
    expect(failureSignature({ text: 'timed out after 10000 ms', test: 'test_big', fallback: 'timeout' })).toEqual({
      exceptionType: null,
      message: 'timed out after <num> ms',
      test: 'test_big',
      key: 'timeout | timed out after <num> ms | test_big',
    });
    expect(failureSignature({ text: undefined, fallback: 'no_code' }).key).toBe('no_code |  | ');
  });

  it('bounds the message', () => {
    const s = failureSignature({ text: `ValueError: ${'word '.repeat(200)}`, fallback: 'failed' });
    expect(s.message.length).toBe(160);
  });
});

describe('clusterFailures', () => {
  it('counts per group, keeps a few examples, largest cluster first', () => {
    const sig = (text: string) => failureSignature({ text, fallback: 'failed' });
    const clusters = clusterFailures(
      [
        { signature: sig('ValueError: x 1'), group: 'a', example: 1 },
        { signature: sig('KeyError: 2'), group: 'a', example: 2 },
        { signature: sig('KeyError: 3'), group: 'b', example: 3 },
        { signature: sig('KeyError: 4'), group: 'b', example: 4 },
      ],
      2,
    );
    expect(clusters.map((c) => [c.key, c.count, c.byGroup, c.examples])).toEqual([
      ['KeyError | <num> | ', 3, { a: 1, b: 2 }, [2, 3]],
      ['ValueError | x <num> | ', 1, { a: 1 }, [1]],
    ]);
  });
});
