// Heuristics for code written straight into an answer, without fences.

const startOfCode = /^(?:async\s+def\s+\w|def\s+\w|class\s+\w|import\s+[\w.]|from\s+[\w.]+\s+import\s|@\w)/;

const compoundHeader =
  /^(?:if|elif|else|for|while|try|except|finally|with|def|class|async|match|case)\b.*:\s*(?:#.*)?$/;
const simpleStatement =
  /^(?:return|raise|assert|pass|break|continue|global|nonlocal|del|yield|await)\b|^import\s+[\w.]+|^from\s+[\w.]+\s+import\s/;
const assignment =
  /^[A-Za-z_][\w.]*(?:\[[^\]]*\])?(?:\s*,\s*[A-Za-z_][\w.]*)*\s*(?:[-+*/%&|^@]|\*\*|\/\/|<<|>>)?=(?!=)/;
const call = /^[A-Za-z_][\w.]*\(/;

/** Whether a non-indented line reads as Python rather than prose. */
export function looksLikeCode(line: string): boolean {
  const t = line.trim();
  if (t === '') return true;
  return (
    compoundHeader.test(t) ||
    simpleStatement.test(t) ||
    assignment.test(t) ||
    call.test(t) ||
    /^@\w/.test(t) ||
    /^#/.test(t) ||
    /^[)\]}]/.test(t) ||
    /^(?:[rbuf]{0,2})("""|''')/i.test(t)
  );
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

function dedentBy(lines: readonly string[], indent: number): string[] {
  return lines.map((line) => (line.trim() === '' ? '' : line.slice(Math.min(indent, indentOf(line)))));
}

function finish(lines: readonly string[]): string {
  const code = lines.join('\n').replace(/\s+$/, '');
  return `${code}\n`;
}

/**
 * Runs of code in prose: each starts at a `def`/`class`/`import`/`from`/
 * decorator line (at any indentation, for answers indented as Markdown code)
 * and continues over blank lines, deeper-indented lines and lines at the same
 * indentation that look like code; it ends at the first prose line.
 */
export function findCodeRuns(text: string): string[] {
  const lines = text.split('\n');
  const runs: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (!startOfCode.test(line.trimStart())) {
      i++;
      continue;
    }
    const base = indentOf(line);
    let j = i + 1;
    for (; j < lines.length; j++) {
      const next = lines[j] ?? '';
      if (next.trim() === '') continue;
      const indent = indentOf(next);
      if (indent > base) continue;
      if (indent === base && looksLikeCode(next)) continue;
      break;
    }
    runs.push(finish(dedentBy(lines.slice(i, j), base)));
    i = j;
  }
  return runs;
}

/**
 * The indented code an answer starts with (a bare completion of a function
 * body, as base models write it), up to the first prose line.
 */
export function leadingIndentedRun(text: string): string | undefined {
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length && (lines[i] ?? '').trim() === '') i++;
  const first = lines[i];
  if (first === undefined || indentOf(first) === 0) return undefined;
  let j = i + 1;
  for (; j < lines.length; j++) {
    const next = lines[j] ?? '';
    if (next.trim() === '' || indentOf(next) > 0) continue;
    if (looksLikeCode(next)) continue;
    break;
  }
  return finish(lines.slice(i, j));
}
