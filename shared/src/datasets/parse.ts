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
};

/** Which format a record looks like, from the fields only that format has. */
export function detectFormat(record: Record<string, unknown>): ProblemSetFormat | undefined {
  if ('test_list' in record) return 'mbpp';
  if ('prompt' in record && 'test' in record && 'entry_point' in record) return 'humaneval';
  if ('problem' in record && 'tests' in record) return 'native';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parse a problem set (JSONL or JSON array; native, HumanEval or MBPP records).
 * The format comes from `opts.format` or the first record whose fields give it
 * away. A bad record (invalid JSON, missing fields, duplicate task id) becomes
 * an error naming its line; the other records are still returned.
 */
export function parseProblemSet(text: string, opts: { format?: ProblemSetFormat } = {}): ParsedProblemSet {
  const records = readRecords(text);
  let format = opts.format;
  if (format === undefined) {
    for (const record of records) {
      if ('value' in record && isObject(record.value)) {
        format = detectFormat(record.value);
        if (format !== undefined) break;
      }
    }
  }
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
          'cannot tell the format: expected native (problem, tests), HumanEval (prompt, test, entry_point) or MBPP (text, test_list) fields',
      });
      continue;
    }
    const result = converters[resolved](record.value);
    if (!result.ok) {
      errors.push({ line: record.line, message: result.message });
      continue;
    }
    const seen = firstLine.get(result.problem.taskId);
    if (seen !== undefined) {
      errors.push({
        line: record.line,
        message: `duplicate task_id '${result.problem.taskId}' (first on line ${seen})`,
      });
      continue;
    }
    firstLine.set(result.problem.taskId, record.line);
    problems.push(result.problem);
  }
  return { format: resolved, problems, errors };
}
