import { resultRowColumns, type ResultRow } from './result-row.js';

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value as number | boolean | bigint);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * RFC 4180 CSV: a header row, CRLF line breaks, fields quoted only when they
 * hold a quote, comma or line break. Objects and arrays are written as JSON.
 * Columns default to every key in first-seen order.
 */
export function toCsv(rows: readonly object[], columns?: readonly string[]): string {
  const header = columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const lines = [header.map(cell).join(',')];
  for (const row of rows) {
    const record = row as Record<string, unknown>;
    lines.push(header.map((column) => cell(record[column])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Result rows as CSV with the standard column order. */
export function resultRowsToCsv(rows: readonly ResultRow[]): string {
  return toCsv(rows, resultRowColumns);
}

/** One JSON document per line, newline-terminated. */
export function toJsonl(rows: readonly unknown[]): string {
  return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
}
