import { describe, expect, it } from 'vitest';
import { naturalCompare, passAtK, percentile } from './index.js';

/** The definition, with exact binomials, to check the product form against. */
function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

describe('passAtK', () => {
  it('matches the worked example n=5, c=2', () => {
    expect(passAtK(5, 2, 1)).toBeCloseTo(0.4, 12);
    expect(passAtK(5, 2, 2)).toBeCloseTo(0.7, 12);
    expect(passAtK(5, 2, 3)).toBeCloseTo(0.9, 12);
    expect(passAtK(5, 2, 4)).toBe(1);
    expect(passAtK(5, 2, 5)).toBe(1);
  });

  it('is c/n for k=1 and 0 or 1 at the extremes', () => {
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12);
    expect(passAtK(10, 0, 5)).toBe(0);
    expect(passAtK(10, 10, 1)).toBe(1);
    expect(passAtK(1, 1, 1)).toBe(1);
    expect(passAtK(1, 0, 1)).toBe(0);
  });

  it('equals 1 - C(n-c,k)/C(n,k) for every small case', () => {
    for (let n = 1; n <= 12; n++) {
      for (let c = 0; c <= n; c++) {
        for (let k = 1; k <= n; k++) {
          const exact = n - c < k ? 1 : 1 - binomial(n - c, k) / binomial(n, k);
          expect(passAtK(n, c, k)).toBeCloseTo(exact, 12);
        }
      }
    }
  });

  it('stays finite and in [0, 1] for large n', () => {
    const value = passAtK(1000, 7, 100);
    expect(value).toBeGreaterThan(0.5);
    expect(value).toBeLessThan(1);
    expect(passAtK(200, 1, 1)).toBeCloseTo(0.005, 12);
  });

  it('rejects impossible arguments', () => {
    expect(() => passAtK(5, 2, 6)).toThrow(RangeError);
    expect(() => passAtK(5, 6, 1)).toThrow(RangeError);
    expect(() => passAtK(0, 0, 1)).toThrow(RangeError);
    expect(() => passAtK(5, 2, 0)).toThrow(RangeError);
    expect(() => passAtK(5, 1.5, 1)).toThrow(RangeError);
  });
});

describe('percentile', () => {
  it('interpolates linearly between ranks', () => {
    const values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(percentile(values, 0.5)).toBeCloseTo(55, 12);
    expect(percentile(values, 0.9)).toBeCloseTo(91, 12);
    expect(percentile(values, 0.99)).toBeCloseTo(99.1, 12);
    expect(percentile([7], 0.99)).toBe(7);
  });
});

describe('naturalCompare', () => {
  it('orders numbers inside ids by value', () => {
    const ids = ['HumanEval/10', 'HumanEval/2', 'HumanEval/1', 'Mbpp/3', 'HumanEval/002', 'a', 'B'];
    expect([...ids].sort(naturalCompare)).toEqual([
      'B',
      'HumanEval/1',
      'HumanEval/002',
      'HumanEval/2',
      'HumanEval/10',
      'Mbpp/3',
      'a',
    ]);
  });

  it('agrees with the definition (runs of digits by value, other runs as strings) on generated ids', () => {
    // The definition the scanner implements, written with regular expressions as it first was.
    const byDefinition = (a: string, b: string): number => {
      const pa = a.match(/\d+|\D+/g) ?? [];
      const pb = b.match(/\d+|\D+/g) ?? [];
      for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
        const [x, y] = [pa[i]!, pb[i]!];
        if (x === y) continue;
        if (/^\d/.test(x) && /^\d/.test(y)) {
          const [xs, ys] = [x.replace(/^0+(?=\d)/, ''), y.replace(/^0+(?=\d)/, '')];
          if (xs.length !== ys.length) return xs.length - ys.length;
          if (xs !== ys) return xs < ys ? -1 : 1;
          continue;
        }
        return x < y ? -1 : 1;
      }
      if (pa.length !== pb.length) return pa.length - pb.length;
      return a < b ? -1 : a > b ? 1 : 0;
    };
    const alphabet = ['0', '0', '1', '2', '9', 'a', 'b', 'B', '/', '_', 'é', '٣'];
    let seed = 17;
    const random = (n: number) => {
      // A 32-bit LCG in integer arithmetic (a plain product would pass 2^53 and lose its low bits).
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 16) % n;
    };
    const id = () => Array.from({ length: random(9) }, () => alphabet[random(alphabet.length)]).join('');
    const ids = Array.from({ length: 400 }, id);
    let disagreements = 0;
    for (const a of ids)
      for (const b of ids.slice(0, 60))
        if (Math.sign(naturalCompare(a, b)) !== Math.sign(byDefinition(a, b))) disagreements++;
    expect(disagreements).toBe(0);
    // Equal values: plain string order decides ('0' < '7'), as HumanEval/002 before HumanEval/2 above.
    expect(naturalCompare('x007', 'x7')).toBeLessThan(0);
    expect(naturalCompare('x7', 'x007')).toBeGreaterThan(0);
    expect(naturalCompare('a10b', 'a9c')).toBeGreaterThan(0);
    expect(naturalCompare('', 'a')).toBeLessThan(0);
    expect(naturalCompare('HumanEval/2', 'HumanEval/2')).toBe(0);
  });
});
