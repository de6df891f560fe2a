import { resultRowColumns, type ResultRow } from './result-row.js';

function textOf(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
    case 'function':
    case 'symbol':
      return '';
    case 'object':
      return value === null ? '' : JSON.stringify(value);
  }
}

function cell(value: unknown): string {
  const text = textOf(value);
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
