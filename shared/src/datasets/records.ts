/** One JSON value read from a dataset file, with the 1-based line it starts on. */
export type RawRecord = { line: number; value: unknown } | { line: number; error: string };

/**
 * Read a JSONL file (one record per line, blank lines ignored) or a JSON array
 * (detected by a leading '['). A line that is not valid JSON becomes an error
 * entry; the other lines stay usable.
 */
export function readRecords(text: string): RawRecord[] {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  if (body.trimStart().startsWith('[')) return readJsonArray(body);
  const records: RawRecord[] = [];
  body.split('\n').forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    try {
      records.push({ line: index + 1, value: JSON.parse(line) as unknown });
    } catch (err) {
      records.push({ line: index + 1, error: `invalid JSON: ${(err as Error).message}` });
    }
  });
  return records;
}

function readJsonArray(text: string): RawRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return [{ line: 1, error: `invalid JSON array: ${(err as Error).message}` }];
  }
  if (!Array.isArray(parsed)) return [{ line: 1, error: 'expected a JSON array of records' }];
  const lines = elementLines(text);
  return parsed.map((value: unknown, index) => ({ line: lines[index] ?? 1, value }));
}

/** The line on which each top-level element of a (valid) JSON array starts. */
function elementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n') line++;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') continue;
    if (expectElement && depth === 1 && ch !== ']') {
      lines.push(line);
      expectElement = false;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') {
      depth++;
      if (depth === 1) expectElement = true;
    } else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 1) expectElement = true;
  }
  return lines;
}
