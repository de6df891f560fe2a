import type { z } from 'zod';
import { problemSchema, type Problem } from './problem.js';

export type RecordResult = { ok: true; problem: Problem } | { ok: false; message: string };

/** Turn zod issues into one line a dataset author can act on ("missing field 'tests'"). */
export function describeIssues(error: z.ZodError, record: Record<string, unknown>): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.map(String).join('.');
      if (field === '') return issue.message;
      const top = issue.path[0];
      if (issue.path.length === 1 && typeof top === 'string' && record[top] === undefined) {
        return `missing field '${field}'`;
      }
      return `field '${field}': ${issue.message}`;
    })
    .join('; ');
}

/** Validate the normalized problem so every format ends with the same guarantees. */
export function finish(candidate: Problem, fieldNames: Partial<Record<keyof Problem, string>>): RecordResult {
  const parsed = problemSchema.safeParse(candidate);
  if (parsed.success) return { ok: true, problem: parsed.data };
  // Report problems under the record's own field names, not our normalized ones.
  const message = parsed.error.issues
    .map((issue) => {
      const key = issue.path[0];
      const name = typeof key === 'string' ? (fieldNames[key as keyof Problem] ?? key) : String(key);
      const value = typeof key === 'string' ? candidate[key as keyof Problem] : undefined;
      if (value === undefined) return `missing field '${name}'`;
      return `field '${name}': ${issue.message}`;
    })
    .join('; ');
  return { ok: false, message };
}

export function optionalText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  return undefined;
}

/** Complexity appears as "easy" or as a number (1–5) in the wild; keep it as text. */
export function complexityText(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** The part of a task id before its first '/', e.g. "HumanEval" for "HumanEval/12". */
export function taskIdPrefix(taskId: string): string | undefined {
  const slash = taskId.indexOf('/');
  return slash > 0 ? taskId.slice(0, slash) : undefined;
}
