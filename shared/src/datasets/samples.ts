import type { CodeMode } from './problem.js';
import type { ProblemSetError } from './parse.js';
import { readRecords } from './records.js';

/** One line of a human-eval style samples file. */
export interface Sample {
  taskId: string;
  /** The code to evaluate: `completion` (appended to the prompt) or EvalPlus's `solution` (full code). */
  completion: string;
  mode: CodeMode;
  /** 0-based line index in the file, so results can be written back in the same order. */
  lineIndex: number;
  /** 0-based position of this sample among the samples of its task. */
  sampleIndex: number;
  /** The parsed line as given, written back with `result` and `passed` added. */
  raw: Record<string, unknown>;
}

/**
 * Parse a samples file (`{"task_id": ..., "completion": ...}` per line, several
 * lines per task allowed; `solution` instead of `completion` means full code).
 */
export function parseSamples(text: string): { samples: Sample[]; errors: ProblemSetError[] } {
  const samples: Sample[] = [];
  const errors: ProblemSetError[] = [];
  const perTask = new Map<string, number>();
  for (const record of readRecords(text)) {
    if ('error' in record) {
      errors.push({ line: record.line, message: record.error });
      continue;
    }
    const raw = record.value;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      errors.push({ line: record.line, message: 'expected a JSON object' });
      continue;
    }
    const fields = raw as Record<string, unknown>;
    const taskId = fields.task_id;
    if (typeof taskId !== 'string' && typeof taskId !== 'number') {
      errors.push({ line: record.line, message: "missing field 'task_id'" });
      continue;
    }
    const completion = typeof fields.completion === 'string' ? fields.completion : undefined;
    const solution = typeof fields.solution === 'string' ? fields.solution : undefined;
    if (completion === undefined && solution === undefined) {
      errors.push({ line: record.line, message: "missing field 'completion' (or 'solution')" });
      continue;
    }
    const id = String(taskId);
    const sampleIndex = perTask.get(id) ?? 0;
    perTask.set(id, sampleIndex + 1);
    samples.push({
      taskId: id,
      completion: completion ?? solution ?? '',
      mode: completion !== undefined ? 'completion' : 'full',
      lineIndex: record.line - 1,
      sampleIndex,
      raw: fields,
    });
  }
  return { samples, errors };
}

/**
 * One line of a `<samples>_results.jsonl` file: the original line plus `result` and `passed` (and, for EvalPlus
 * tasks, `base_status` and `plus_status`).
 */
export function sampleResultLine(
  sample: Pick<Sample, 'raw'>,
  outcome: { result: string; passed: boolean; base_status?: string; plus_status?: string },
): string {
  return JSON.stringify({ ...sample.raw, ...outcome });
}

/**
 * The dataset task a sample names: its `task_id` as given, or, for MBPP's bare numbers,
 * `Mbpp/<n>` as the MBPP loader names tasks (so `{"task_id": 11}` finds `Mbpp/11`).
 */
export function resolveSampleTask(taskId: string, known: { has(id: string): boolean }): string | undefined {
  if (known.has(taskId)) return taskId;
  if (/^\d+$/.test(taskId) && known.has(`Mbpp/${taskId}`)) return `Mbpp/${taskId}`;
  return undefined;
}
