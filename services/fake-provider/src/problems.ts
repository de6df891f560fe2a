/** A problem as the fake provider needs it: enough to find it in a prompt and answer it. */
export interface Problem {
  taskId: string;
  entryPoint: string;
  /** A complete reference solution (signature included). */
  solution: string;
}

function field(record: Record<string, unknown>, name: string): string | undefined {
  const value = record[name];
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** True when `code` defines `name` as a function. */
export function definesFunction(code: string, name: string): boolean {
  return new RegExp(`^\\s*(?:async\\s+)?def\\s+${escapeRegExp(name)}\\s*\\(`, 'm').test(code);
}

/**
 * Parse a JSONL problem set: `task_id`, one of `reference_solution` / `canonical_solution` /
 * `code`, and `entry_point` (else the first function defined). A HumanEval-style
 * `canonical_solution` holds only the body, so it is appended to the `prompt`.
 */
export function parseProblems(jsonl: string): Problem[] {
  const problems: Problem[] = [];
  const lines = jsonl.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (err) {
      throw new Error(`problem set line ${index + 1}: not JSON (${(err as Error).message})`, { cause: err });
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new Error(`problem set line ${index + 1}: expected a JSON object`);
    }
    const fields = record as Record<string, unknown>;
    const taskId = field(fields, 'task_id');
    const body = field(fields, 'reference_solution') ?? field(fields, 'canonical_solution') ?? field(fields, 'code');
    if (taskId === undefined) throw new Error(`problem set line ${index + 1}: missing task_id`);
    if (body === undefined) throw new Error(`problem set line ${index + 1} (${taskId}): missing a reference solution`);
    const entryPoint = field(fields, 'entry_point') ?? /^\s*def\s+([A-Za-z_]\w*)\s*\(/m.exec(body)?.[1];
    if (entryPoint === undefined) throw new Error(`problem set line ${index + 1} (${taskId}): missing entry_point`);
    const prompt = field(fields, 'prompt');
    const solution = !definesFunction(body, entryPoint) && prompt !== undefined ? prompt + body : body;
    problems.push({ taskId, entryPoint, solution });
  }
  return problems;
}

/**
 * The problem a prompt is about: the `Task: <task_id>` line wins; otherwise the
 * longest entry-point name mentioned as a word.
 */
export function findProblem(problems: readonly Problem[], text: string): Problem | undefined {
  for (const match of text.matchAll(/^[ \t>*#-]*Task:[ \t]*`?([^\s`]+)`?[ \t]*$/gim)) {
    const found = problems.find((p) => p.taskId === match[1]);
    if (found !== undefined) return found;
  }
  let best: Problem | undefined;
  for (const problem of problems) {
    if (best !== undefined && problem.entryPoint.length <= best.entryPoint.length) continue;
    if (new RegExp(`(?<![\\w])${escapeRegExp(problem.entryPoint)}(?![\\w])`).test(text)) best = problem;
  }
  return best;
}

export { escapeRegExp };
