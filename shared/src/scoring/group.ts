import { naturalCompare } from './ordering.js';
import type { ResultRow } from './result-row.js';
import { dedupeRows } from './tasks.js';

export interface ModelCategoryGroup {
  model: string;
  category: string;
  /** Sorted by task (natural order), then sample index. */
  rows: ResultRow[];
}

/** Rows split per model and category (the `<model>/<category>.jsonl|csv` files), in a stable order. */
export function groupByModelCategory(rows: readonly ResultRow[]): ModelCategoryGroup[] {
  const groups = new Map<string, ModelCategoryGroup>();
  for (const row of dedupeRows(rows)) {
    const key = JSON.stringify([row.model, row.category]);
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { model: row.model, category: row.category, rows: [] }));
    group.rows.push(row);
  }
  const sorted = [...groups.values()].sort(
    (a, b) => naturalCompare(a.model, b.model) || naturalCompare(a.category, b.category),
  );
  for (const group of sorted) {
    group.rows.sort(
      (a, b) => naturalCompare(a.taskId, b.taskId) || a.sampleIndex - b.sampleIndex || naturalCompare(a.runId, b.runId),
    );
  }
  return sorted;
}

/**
 * A model or category name as one safe path segment ("openai/gpt-4o" →
 * "openai%2Fgpt-4o"): every byte outside [A-Za-z0-9._-] is percent-encoded, so
 * distinct names never share a file.
 */
export function pathSegment(name: string): string {
  const encoded = [...new TextEncoder().encode(name)]
    .map((byte) => {
      const ch = String.fromCharCode(byte);
      return /[A-Za-z0-9._-]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
  if (encoded === '') return '%00';
  return encoded.replace(/^\./, '%2E');
}
