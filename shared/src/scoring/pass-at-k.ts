/**
 * Unbiased pass@k estimator (Chen et al., 2021): 1 - C(n-c, k) / C(n, k),
 * computed as 1 - prod_{i=n-c+1}^{n} (1 - k/i) so large n does not overflow.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k))
    throw new RangeError('n, c and k must be integers');
  if (n < 1 || k < 1 || k > n || c < 0 || c > n) throw new RangeError(`invalid pass@k arguments n=${n} c=${c} k=${k}`);
  if (n - c < k) return 1;
  // pass@1 is exactly c/n; the product form would give 0.19999999999999996 for 1/5.
  if (k === 1) return c / n;
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}
