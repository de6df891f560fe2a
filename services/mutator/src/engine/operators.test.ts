import { beforeAll, describe, expect, it } from 'vitest';
import { mutationOperatorIds, type MutateResult, type MutationCapability } from '@evalfleet/shared/workflow';
import { createMutationEngine, operators } from './index.js';

let engine: MutationCapability;
beforeAll(async () => {
  engine = await createMutationEngine();
});

async function run(source: string, ops: string[]): Promise<MutateResult> {
  return engine.mutate({ files: [{ path: 'm.py', text: source }], operators: ops });
}

/** Each mutant as the mutated lines, trimmed. */
async function mutants(source: string, op: string): Promise<string[]> {
  return (await run(source, [op])).mutants.map((m) => m.text.trim());
}

describe('operators', () => {
  it('have stable, unique ids and names', () => {
    expect(operators.map((o) => o.id)).toEqual(mutationOperatorIds);
    expect(operators.map((o) => o.id)).toEqual([
      'arithmetic',
      'comparison',
      'logical',
      'not',
      'unary',
      'number',
      'string',
      'boolean',
      'return',
      'statement',
      'loop',
      'index',
      'except',
      'default',
      'augmented',
    ]);
    expect(new Set(operators.map((o) => o.name)).size).toBe(operators.length);
  });

  it('arithmetic swaps each operator once, leaving x + 0 alone', async () => {
    expect(await mutants('y = a + b * c // d % e ** f - g\n', 'arithmetic')).toEqual([
      'y = a - b * c // d % e ** f - g',
      'y = a + b / c // d % e ** f - g',
      'y = a + b * c / d % e ** f - g',
      'y = a + b * c // d / e ** f - g',
      'y = a + b * c // d % e * f - g',
      'y = a + b * c // d % e ** f + g',
    ]);
    const r = await run('y = a + 0\nz = a << 1 | b & c ^ d\n', ['arithmetic']);
    expect(r.mutants.map((m) => m.text)).toEqual([
      'z = a >> 1 | b & c ^ d',
      'z = a << 1 & b & c ^ d',
      'z = a << 1 | b | c ^ d',
      'z = a << 1 | b & c & d',
    ]);
    expect(r.skipped['equivalent']).toBe(1);
  });

  it('comparison moves boundaries and negates equality, identity and membership', async () => {
    expect(await mutants('ok = a < b <= c > d >= e == f != g\n', 'comparison')).toEqual([
      'ok = a <= b <= c > d >= e == f != g',
      'ok = a < b < c > d >= e == f != g',
      'ok = a < b <= c >= d >= e == f != g',
      'ok = a < b <= c > d > e == f != g',
      'ok = a < b <= c > d >= e != f != g',
      'ok = a < b <= c > d >= e == f == g',
    ]);
    expect(await mutants('ok = a is b or a is not b or a in b or a not in b\n', 'comparison')).toEqual([
      'ok = a is not b or a is not b or a in b or a not in b',
      'ok = a is b or a is b or a in b or a not in b',
      'ok = a is b or a is not b or a not in b or a not in b',
      'ok = a is b or a is not b or a in b or a in b',
    ]);
  });

  it('logical swaps and/or; not removes not', async () => {
    expect(await mutants('ok = a and b or c\n', 'logical')).toEqual(['ok = a or b or c', 'ok = a and b and c']);
    expect(await mutants('ok = not a\n', 'not')).toEqual(['ok = a']);
    // The line break inside the brackets stays, so the line count does too.
    const r = await run('ok = (not\n      a)\n', ['not']);
    expect(r.mutants.map((m) => [m.lines, m.text])).toEqual([[[1, 2], 'ok = (\n      a)']]);
  });

  it('unary flips the sign and drops ~, but leaves -0 alone', async () => {
    expect(await mutants('y = -a + (+b) + ~c + -0\n', 'unary')).toEqual([
      'y = +a + (+b) + ~c + -0',
      'y = -a + (-b) + ~c + -0',
      'y = -a + (+b) + c + -0',
    ]);
  });

  it('number makes n+1, n-1 and 0 once each', async () => {
    expect(await mutants('a = 5\nb = 0\nc = 1.5\nd = 0x10\ne = x - 1\n', 'number')).toEqual([
      'a = 6',
      'a = 4',
      'a = 0',
      'b = 1',
      'b = -1',
      'c = 2.5',
      'c = 0.5',
      'c = 0.0',
      'd = 17',
      'd = 15',
      'd = 0',
      'e = x - 2',
      'e = x - 0',
    ]);
  });

  it('string empties non-empty strings and fills empty ones; docstrings stay', async () => {
    const source = 'def f():\n    """Doc."""\n    return "a" + \'\' + b"c" + f"{x}"\n';
    expect(await mutants(source, 'string')).toEqual([
      'return "" + \'\' + b"c" + f"{x}"',
      'return "a" + \'mutated\' + b"c" + f"{x}"',
      'return "a" + \'\' + b"" + f"{x}"',
      'return "a" + \'\' + b"c" + f""',
    ]);
    const multi = await run('s = """a\nb"""\n', ['string']);
    expect(multi.mutants.map((m) => m.text)).toEqual(['s = """\n"""']);
    expect(multi.mutants[0]?.lines).toEqual([1, 2]);
  });

  it('boolean swaps True and False', async () => {
    expect(await mutants('x = True or False\n', 'boolean')).toEqual(['x = False or False', 'x = True or True']);
  });

  it('return replaces a value with None, keeping the line count', async () => {
    expect(await mutants('def f():\n    return x + 1\n', 'return')).toEqual(['return None']);
    expect(await mutants('def f():\n    return None\n', 'return')).toEqual([]);
    const r = await run('def f():\n    return (a +\n            b)\n', ['return']);
    expect(r.mutants.map((m) => m.text)).toEqual(['    return None\n']);
  });

  it('statement deletes expressions, assignments, assert, raise and del with pass', async () => {
    const source =
      'def f(a):\n    """Doc."""\n    a.append(1)\n    b = 2\n    assert b\n    del b\n    raise E\n    pass\n';
    expect(await mutants(source, 'statement')).toEqual(['pass', 'pass', 'pass', 'pass', 'pass']);
    const r = await run('x = f(1,\n      2)\n', ['statement']);
    expect(r.mutants.map((m) => m.text)).toEqual(['pass\n']);
  });

  it('loop swaps break and continue', async () => {
    expect(await mutants('for i in x:\n    if i:\n        break\n    continue\n', 'loop')).toEqual([
      'continue',
      'break',
    ]);
  });

  it('index moves indices and slice bounds by one, leaving literals to the number operator', async () => {
    expect(await mutants('y = a[i] + a[j:k] + a[1] + d["k"] + a[i, j]\n', 'index')).toEqual([
      'y = a[i + 1] + a[j:k] + a[1] + d["k"] + a[i, j]',
      'y = a[i - 1] + a[j:k] + a[1] + d["k"] + a[i, j]',
      'y = a[i] + a[j + 1:k] + a[1] + d["k"] + a[i, j]',
      'y = a[i] + a[j - 1:k] + a[1] + d["k"] + a[i, j]',
      'y = a[i] + a[j:k + 1] + a[1] + d["k"] + a[i, j]',
      'y = a[i] + a[j:k - 1] + a[1] + d["k"] + a[i, j]',
    ]);
    expect(await mutants('y = a[n or 0]\n', 'index')).toEqual(['y = a[(n or 0) + 1]', 'y = a[(n or 0) - 1]']);
  });

  it('except makes handlers catch nothing', async () => {
    const source = 'try:\n    f()\nexcept (A, B) as e:\n    g()\nexcept C:\n    h()\nexcept:\n    i()\n';
    expect(await mutants(source, 'except')).toEqual(['except () as e:', 'except ():', 'except ():']);
  });

  it('default replaces default values with None', async () => {
    expect(await mutants('def f(a, b=1, *, c: int = 2, d=None):\n    pass\n', 'default')).toEqual([
      'def f(a, b=None, *, c: int = 2, d=None):',
      'def f(a, b=1, *, c: int = None, d=None):',
    ]);
  });

  it('augmented swaps the assignment operator, leaving += 0 alone', async () => {
    expect(await mutants('a += 1\nb -= c\nd *= 2\ne //= 3\nf += 0\n', 'augmented')).toEqual([
      'a -= 1',
      'b += c',
      'd /= 2',
      'e /= 3',
    ]);
  });
});

describe('skip rules and dedupe', () => {
  it('leaves annotations, decorators, main guards, TYPE_CHECKING, dunders and pragma lines alone', async () => {
    const source = [
      'from typing import TYPE_CHECKING',
      '__all__ = ["f"]',
      'if TYPE_CHECKING:',
      '    X = 1',
      '@deco(2)',
      'def f(a: int = 3) -> "str":',
      '    b: int = 4',
      '    c = 5  # pragma: no mutate',
      '    return b',
      'if __name__ == "__main__":',
      '    f(6)',
      '',
    ].join('\n');
    const r = await run(source, ['number', 'string']);
    expect(r.mutants.map((m) => m.text.trim())).toEqual([
      'def f(a: int = 4) -> "str":',
      'def f(a: int = 2) -> "str":',
      'def f(a: int = 0) -> "str":',
      'b: int = 5',
      'b: int = 3',
      'b: int = 0',
    ]);
    expect(r.skipped).toMatchObject({
      dunder: 1,
      type_checking: 2,
      decorator: 3,
      annotation: 1,
      pragma: 3,
      main_guard: 4,
    });
  });

  it('drops a mutant whose normalised source equals another one or the original', async () => {
    // 1 → 0 (n-1) and 1 → 0 (zero) are one mutant; so are two spellings that mean the same number.
    const r = await run('a = 1\n', ['number']);
    expect(r.mutants.map((m) => m.text)).toEqual(['a = 2', 'a = 0']);
  });

  it('drops unparsable mutants and keeps line numbers for every mutant', async () => {
    const source = 'def f(x):\n    if x:\n        return 1\n    return 2\n';
    const r = await run(
      source,
      operators.map((o) => o.id),
    );
    for (const m of r.mutants) {
      const lines = source.split('\n');
      lines.splice(m.lines[0] - 1, m.lines[1] - m.lines[0] + 1, ...m.text.split('\n'));
      expect(lines.length).toBe(source.split('\n').length);
    }
    expect(r.errors).toEqual([]);
  });

  it('reports a file it cannot parse', async () => {
    const r = await run('def f(:\n', ['number']);
    expect(r.errors).toEqual([{ file: 'm.py', message: expect.stringContaining('line 1') }]);
  });

  it('gives Stryker locations (1-based, end exclusive) and the statement lines that cover a mutant', async () => {
    const r = await run('def f(x):\n    if x < 1:\n        return 2\n', ['comparison']);
    expect(r.mutants).toEqual([
      {
        file: 'm.py',
        operator: 'comparison',
        mutatorName: 'ComparisonOperator',
        original: '<',
        replacement: '<=',
        location: { start: { line: 2, column: 10 }, end: { line: 2, column: 11 } },
        lines: [2, 2],
        text: '    if x <= 1:',
        cover: [2, 3],
        inFunction: true,
      },
    ]);
  });
});
