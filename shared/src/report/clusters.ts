import type { FailureSignature } from './signature.js';

/** Failures that share a signature, counted per group (e.g. per model), with a few examples. */
export type FailureCluster<E> = {
  key: string;
  exceptionType: string | null;
  message: string;
  test: string | null;
  count: number;
  byGroup: Record<string, number>;
  examples: E[];
};

/**
 * Groups failures by signature key, largest cluster first (ties by key, so reports are stable),
 * keeping the first `maxExamples` examples of each in input order.
 */
export function clusterFailures<E>(
  failures: readonly { signature: FailureSignature; group: string; example: E }[],
  maxExamples = 3,
): FailureCluster<E>[] {
  const clusters = new Map<string, FailureCluster<E>>();
  for (const f of failures) {
    let c = clusters.get(f.signature.key);
    if (!c) {
      const { key, exceptionType, message, test } = f.signature;
      c = { key, exceptionType, message, test, count: 0, byGroup: {}, examples: [] };
      clusters.set(key, c);
    }
    c.count += 1;
    c.byGroup[f.group] = (c.byGroup[f.group] ?? 0) + 1;
    if (c.examples.length < maxExamples) c.examples.push(f.example);
  }
  return [...clusters.values()].sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
