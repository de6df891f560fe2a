// Failure signatures: the same mistake should read the same across samples, tasks and runs, so
// failures can be counted as patterns. A signature is the exception type, its message with the
// literals masked (numbers, strings, hex, paths) and the failing test.

export type FailureSignature = {
  /** `AssertionError`, `TypeError`, ...; null when the text names no exception. */
  exceptionType: string | null;
  /** The exception's message (or the text's last line), literals masked, at most 160 characters. */
  message: string;
  test: string | null;
  /** What clusters are keyed by. */
  key: string;
};

// Python exception names end in one of these (builtins and the convention for custom ones).
const exceptionName = String.raw`(?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt|Warning|Failure|Iteration|Timeout)`;
// `Type: message`, also as pytest writes it: `E   Type: message` or `test_x.py:12: Type`.
const exceptionLine = new RegExp(String.raw`^(?:E\s+)?(?:[^\s:]+:\d+:\s+)?(${exceptionName})(?::\s*(.*))?$`);

/**
 * Literals masked so that values do not split a pattern: quoted strings → `<str>`, paths → `<path>`,
 * hex (0x…, or long hex runs with digits and letters) → `<hex>`, numbers → `<num>`; whitespace collapsed.
 */
export function maskLiterals(text: string): string {
  return (
    text
      // A quote after a letter is an apostrophe (can't), not the start of a string.
      .replace(/(?<!\w)'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, '<str>')
      .replace(/(?:[A-Za-z]:)?(?:[\\/][\w.@~+-]+){2,}[\\/]?|(?:~|\.{1,2})(?:[\\/][\w.@~+-]+)+/g, '<path>')
      .replace(/\b0[xX][0-9a-fA-F]+\b/g, '<hex>')
      .replace(/\b[0-9a-fA-F]{8,}\b/g, (m) => (/\d/.test(m) && /[a-fA-F]/.test(m) ? '<hex>' : m))
      .replace(/(?<![\w.<])-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w>])/g, '<num>')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

/**
 * The signature of a failure from its text (a traceback, pytest's report, an error message) and
 * the failing test; `fallback` stands in for the exception type when the text names none (e.g.
 * `timeout`, `no_code`).
 */
export function failureSignature(input: {
  text: string | undefined;
  test?: string | undefined;
  fallback: string;
}): FailureSignature {
  const lines = (input.text ?? '')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  let exceptionType: string | null = null;
  let message = '';
  // The last exception line wins: a traceback ends with it, chained exceptions come before it.
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = exceptionLine.exec(lines[i] ?? '');
    if (!m?.[1]) continue;
    exceptionType = m[1];
    message = m[2] ?? '';
    break;
  }
  // pytest ends with the bare type (`file.py:3: TypeError`) after its `E` lines, which hold the
  // message (`E   TypeError: ...`) or, for a failed assert, the assertion (`E   assert 3 == 2`).
  if (exceptionType !== null && message === '') {
    const typed = lines.map((l) => exceptionLine.exec(l)).find((m) => m?.[1] === exceptionType && m[2]);
    const eLine = lines.find((l) => /^E\s+\S/.test(l) && !exceptionLine.test(l));
    message = typed?.[2] ?? eLine?.replace(/^E\s+/, '') ?? '';
  }
  // pytest's short report has no exception line at all: `E   assert 4 == 3` is a failed assert.
  const firstE = lines.find((l) => /^E\s+\S/.test(l));
  if (exceptionType === null && firstE !== undefined) {
    message = firstE.replace(/^E\s+/, '');
    if (/^assert\b/.test(message)) exceptionType = 'AssertionError';
  } else if (exceptionType === null) message = lines[lines.length - 1] ?? '';
  const masked = maskLiterals(message).slice(0, 160);
  const test = input.test ? maskLiterals(input.test).slice(0, 120) : null;
  const key = [exceptionType ?? input.fallback, masked, test ?? ''].join(' | ');
  return { exceptionType, message: masked, test, key };
}
