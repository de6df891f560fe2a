// EvalPlus inputs are JSON written by Python: integers of any size, NaN, Infinity and -Infinity. A JavaScript
// number would round the integers and JSON.parse rejects the rest, so inputs stay as their own text from the
// dataset line to the sandbox, where Python's json reads them. These helpers find that text.

/** Where a JSON value starts and ends (exclusive) in its text. */
export type Span = { start: number; end: number };

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

function skipSpace(text: string, pos: number): number {
  while (pos < text.length && WHITESPACE.has(text[pos]!)) pos++;
  return pos;
}

/** The end (exclusive) of the string starting at `pos` (a `"`), or -1 when it does not end. */
function stringEnd(text: string, pos: number): number {
  for (let i = pos + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\\') i++;
    else if (ch === '"') return i + 1;
  }
  return -1;
}

/**
 * The end (exclusive) of the value starting at `pos`, found by bracket depth (strings skipped), or -1. Only
 * the structure is checked here; `checkPythonJson` checks the syntax.
 */
function valueEnd(text: string, pos: number): number {
  const first = text[pos];
  if (first === '"') return stringEnd(text, pos);
  if (first !== '[' && first !== '{') {
    let i = pos;
    while (i < text.length && !WHITESPACE.has(text[i]!) && !',]}'.includes(text[i]!)) i++;
    return i > pos ? i : -1;
  }
  let depth = 0;
  for (let i = pos; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      const end = stringEnd(text, i);
      if (end < 0) return -1;
      i = end - 1;
    } else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** The top-level members of a JSON object's text: key → the span of its value's text. Throws when malformed. */
export function objectMembers(text: string): Map<string, Span> {
  const members = new Map<string, Span>();
  let pos = skipSpace(text, 0);
  if (text[pos] !== '{') throw new SyntaxError('expected a JSON object');
  pos = skipSpace(text, pos + 1);
  if (text[pos] === '}') return members;
  for (;;) {
    if (text[pos] !== '"') throw new SyntaxError(`expected a key at column ${pos + 1}`);
    const keyEnd = stringEnd(text, pos);
    if (keyEnd < 0) throw new SyntaxError('unterminated key');
    const key = JSON.parse(text.slice(pos, keyEnd)) as string;
    pos = skipSpace(text, keyEnd);
    if (text[pos] !== ':') throw new SyntaxError(`expected ':' after ${JSON.stringify(key)}`);
    pos = skipSpace(text, pos + 1);
    const end = valueEnd(text, pos);
    if (end < 0) throw new SyntaxError(`the value of ${JSON.stringify(key)} does not end`);
    members.set(key, { start: pos, end });
    pos = skipSpace(text, end);
    if (text[pos] === ',') {
      pos = skipSpace(text, pos + 1);
      continue;
    }
    if (text[pos] === '}' && skipSpace(text, pos + 1) === text.length) return members;
    throw new SyntaxError(`expected ',' or '}' at column ${pos + 1}`);
  }
}

/** The elements of a JSON array's text, each as its own text. Throws when it is not an array. */
export function arrayElements(text: string): string[] {
  const elements: string[] = [];
  let pos = skipSpace(text, 0);
  if (text[pos] !== '[') throw new SyntaxError('expected a JSON array');
  pos = skipSpace(text, pos + 1);
  if (text[pos] === ']') return elements;
  for (;;) {
    const end = valueEnd(text, pos);
    if (end < 0) throw new SyntaxError('an array element does not end');
    elements.push(text.slice(pos, end));
    pos = skipSpace(text, end);
    if (text[pos] === ',') {
      pos = skipSpace(text, pos + 1);
      continue;
    }
    if (text[pos] === ']' && skipSpace(text, pos + 1) === text.length) return elements;
    throw new SyntaxError(`expected ',' or ']' at column ${pos + 1}`);
  }
}

/**
 * Whether `text` is JSON as Python's json module writes and reads it (NaN, Infinity and -Infinity allowed
 * outside strings); throws a SyntaxError saying why not.
 */
export function checkPythonJson(text: string): void {
  const parts: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    const quote = text.indexOf('"', pos);
    parts.push((quote < 0 ? text.slice(pos) : text.slice(pos, quote)).replace(/-?Infinity|NaN/g, '0'));
    if (quote < 0) break;
    const end = stringEnd(text, quote);
    if (end < 0) throw new SyntaxError('unterminated string');
    parts.push(text.slice(quote, end));
    pos = end;
  }
  JSON.parse(parts.join(''));
}
