import type { StoredMutant } from './artifacts.js';

/** A mutant as a unified diff of its file (mutants keep the line count, so one hunk says it all). */
export function mutantDiff(source: string, m: Pick<StoredMutant, 'file' | 'lines' | 'text'>, context = 2): string {
  const lines = source.split('\n');
  const [first, last] = m.lines;
  const from = Math.max(1, first - context);
  const to = Math.min(lines.length, last + context);
  const before = lines.slice(from - 1, first - 1).map((l) => ` ${l}`);
  const removed = lines.slice(first - 1, last).map((l) => `-${l}`);
  const added = m.text.split('\n').map((l) => `+${l}`);
  const after = lines.slice(last, to).map((l) => ` ${l}`);
  const count = to - from + 1;
  return [
    `--- a/${m.file}`,
    `+++ b/${m.file}`,
    `@@ -${from},${count} +${from},${count} @@`,
    ...before,
    ...removed,
    ...added,
    ...after,
  ].join('\n');
}
