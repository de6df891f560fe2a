/**
 * Natural order for task ids and names ("HumanEval/2" before "HumanEval/10"),
 * independent of locale so reports are byte-identical everywhere.
 *
 * The ids are cut into runs of ASCII digits and runs of anything else, compared run by run: two digit runs
 * by value (leading zeros aside), any other pair as strings (UTF-16 code units); a tie goes to the id with
 * fewer runs, then to plain string order. Scanned in place from the first difference, without a regular
 * expression or a substring: a report sorts every result of its run with it, several times.
 */
export function naturalCompare(a: string, b: string): number {
  if (a === b) return 0;
  // The runs before the first differing character are the same in both: start at the run it falls in (a
  // run that goes on across it in either id starts before it).
  const common = Math.min(a.length, b.length);
  let start = 0;
  while (start < common && a.charCodeAt(start) === b.charCodeAt(start)) start += 1;
  if (start > 0) {
    const digits = isDigit(a.charCodeAt(start - 1));
    const goesOn =
      (start < a.length && isDigit(a.charCodeAt(start)) === digits) ||
      (start < b.length && isDigit(b.charCodeAt(start)) === digits);
    if (goesOn) while (start > 0 && isDigit(a.charCodeAt(start - 1)) === digits) start -= 1;
  }
  let i = start;
  let j = start;
  while (i < a.length && j < b.length) {
    const aDigits = isDigit(a.charCodeAt(i));
    const bDigits = isDigit(b.charCodeAt(j));
    const aEnd = runEnd(a, i, aDigits);
    const bEnd = runEnd(b, j, bDigits);
    const order = aDigits && bDigits ? compareNumbers(a, i, aEnd, b, j, bEnd) : compareRuns(a, i, aEnd, b, j, bEnd);
    if (order !== 0) return order;
    i = aEnd;
    j = bEnd;
  }
  const runsLeft = countRuns(a, i) - countRuns(b, j);
  if (runsLeft !== 0) return runsLeft;
  return a < b ? -1 : 1;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function runEnd(s: string, from: number, digits: boolean): number {
  let end = from + 1;
  while (end < s.length && isDigit(s.charCodeAt(end)) === digits) end += 1;
  return end;
}

function countRuns(s: string, from: number): number {
  let runs = 0;
  for (let at = from; at < s.length; at = runEnd(s, at, isDigit(s.charCodeAt(at)))) runs += 1;
  return runs;
}

/** Two digit runs by value: leading zeros dropped (one digit kept), then the longer is larger, then digit by digit. */
function compareNumbers(a: string, i: number, aEnd: number, b: string, j: number, bEnd: number): number {
  while (i < aEnd - 1 && a.charCodeAt(i) === 48) i += 1;
  while (j < bEnd - 1 && b.charCodeAt(j) === 48) j += 1;
  if (aEnd - i !== bEnd - j) return aEnd - i - (bEnd - j);
  return compareRuns(a, i, aEnd, b, j, bEnd);
}

/** Two runs as strings (what `<` does with them). */
function compareRuns(a: string, i: number, aEnd: number, b: string, j: number, bEnd: number): number {
  for (; i < aEnd && j < bEnd; i += 1, j += 1) {
    const d = a.charCodeAt(i) - b.charCodeAt(j);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  if (i < aEnd) return 1;
  if (j < bEnd) return -1;
  return 0;
}

/** Percentile with linear interpolation between closest ranks (NumPy's default); `p` in [0, 1]. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of an empty list');
  const pos = (sorted.length - 1) * p;
  const lower = Math.floor(pos);
  const upper = Math.ceil(pos);
  const lo = sorted[lower] ?? 0;
  const hi = sorted[upper] ?? lo;
  return lo + (hi - lo) * (pos - lower);
}
