import { fromEvalPlusLine, looksLikeEvalPlus } from './evalplus.js';
import { fromHumanEvalRecord } from './humaneval.js';
import { fromMbppRecord } from './mbpp.js';
import { fromNativeRecord } from './native.js';
import type { Problem, ProblemSource } from './problem.js';
import type { RecordResult } from './record-result.js';
import { readRecords } from './records.js';

export type ProblemSetFormat = ProblemSource;

export interface ProblemSetError {
  /** 1-based line of the record in the file. */
  line: number;
  message: string;
}

export interface ParsedProblemSet {
  format: ProblemSetFormat;
  problems: Problem[];
  errors: ProblemSetError[];
}

const converters: Record<ProblemSetFormat, (record: Record<string, unknown>) => RecordResult> = {
  native: fromNativeRecord,
  humaneval: fromHumanEvalRecord,
  mbpp: fromMbppRecord,
  // EvalPlus records are read from their lines' own text (parseEvalPlusSet); a parsed value has lost it.
  evalplus: () => ({
    ok: false,
    message: 'EvalPlus records are read from JSONL lines; a JSON array of them is not supported',
  }),
};

/** Which format a record looks like, from the fields only that format has. */
export function detectFormat(record: Record<string, unknown>): ProblemSetFormat | undefined {
  if ('base_input' in record && 'canonical_solution' in record) return 'evalplus';
  if ('test_list' in record) return 'mbpp';
  if ('prompt' in record && 'test' in record && 'entry_point' in record) return 'humaneval';
  if ('problem' in record && 'tests' in record) return 'native';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parse a problem set (JSONL or JSON array; native, HumanEval or MBPP records;
 * EvalPlus records in JSONL only). The format comes from `opts.format` or the
 * first record whose fields give it away. A bad record (invalid JSON, missing fields, duplicate task id) becomes
 * an error naming its line; the other records are still returned.
 */
export function parseProblemSet(text: string, opts: { format?: ProblemSetFormat } = {}): ParsedProblemSet {
  if (opts.format === 'evalplus' || (opts.format === undefined && looksLikeEvalPlus(firstNonEmptyLine(text))))
    return parseEvalPlusSet(text);
  const records = readRecords(text);
  let format: ProblemSetFormat | undefined = opts.format;
  if (format === undefined) {
    for (const record of records) {
      if ('value' in record && isObject(record.value)) {
        format = detectFormat(record.value);
        if (format !== undefined) break;
      }
    }
  }
  // An EvalPlus line after lines that are not (or not JSON): read the file as EvalPlus, line by line.
  if (format === 'evalplus' && !text.trimStart().startsWith('[')) return parseEvalPlusSet(text);
  const resolved = format ?? 'native';
  const problems: Problem[] = [];
  const errors: ProblemSetError[] = [];
  const firstLine = new Map<string, number>();
  for (const record of records) {
    if ('error' in record) {
      errors.push({ line: record.line, message: record.error });
      continue;
    }
    if (!isObject(record.value)) {
      errors.push({ line: record.line, message: 'expected a JSON object' });
      continue;
    }
    if (format === undefined) {
      errors.push({
        line: record.line,
        message:
          'cannot tell the format: expected native (problem, tests), HumanEval (prompt, test, entry_point), MBPP (text, test_list) or EvalPlus (canonical_solution, base_input) fields',
      });
      continue;
    }
    collect(converters[resolved](record.value), record.line, problems, errors, firstLine);
  }
  return { format: resolved, problems, errors };
}

function collect(
  result: RecordResult,
  line: number,
  problems: Problem[],
  errors: ProblemSetError[],
  firstLine: Map<string, number>,
): void {
  if (!result.ok) {
    errors.push({ line, message: result.message });
    return;
  }
  const seen = firstLine.get(result.problem.taskId);
  if (seen !== undefined) {
    errors.push({ line, message: `duplicate task_id '${result.problem.taskId}' (first on line ${seen})` });
    return;
  }
  firstLine.set(result.problem.taskId, line);
  problems.push(result.problem);
}

function firstNonEmptyLine(text: string): string {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  for (const line of lines(body)) if (line.trim() !== '') return line;
  return '';
}

function* lines(text: string): Generator<string> {
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end < 0 ? text.length : end);
    yield line.endsWith('\r') ? line.slice(0, -1) : line;
    if (end < 0) return;
    start = end + 1;
  }
}

/** An EvalPlus set (JSONL only): each line read from its own text, so the inputs keep Python's JSON. */
function parseEvalPlusSet(text: string): ParsedProblemSet {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const problems: Problem[] = [];
  const errors: ProblemSetError[] = [];
  const seen = new Map<string, number>();
  let number = 0;
  for (const line of lines(body)) {
    number++;
    if (line.trim() === '') continue;
    collect(fromEvalPlusLine(line), number, problems, errors, seen);
  }
  return { format: 'evalplus', problems, errors };
}
