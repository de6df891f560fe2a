import { naturalCompare } from './ordering.js';
import { unscoredVerdicts, type ResultRow } from './result-row.js';

/** One model's samples of one task. */
export interface TaskSamples {
  taskId: string;
  category: string;
  rows: ResultRow[];
  /** Samples with a model verdict (see `unscoredVerdicts`). */
  n: number;
  /** Of those, how many passed. */
  c: number;
}

/**
 * Keep one row per (run, model, task, sample): a redelivered or retried
 * result replaces the earlier one, so the last row given wins.
 */
export function dedupeRows(rows: readonly ResultRow[]): ResultRow[] {
  const byKey = new Map<string, ResultRow>();
  for (const row of rows) byKey.set(JSON.stringify([row.runId, row.model, row.taskId, row.sampleIndex]), row);
  return [...byKey.values()];
}

/** model → tasks (natural task order), models in natural order. */
export function groupByModelTask(rows: readonly ResultRow[]): Map<string, TaskSamples[]> {
  const models = new Map<string, Map<string, TaskSamples>>();
  for (const row of dedupeRows(rows)) {
    let tasks = models.get(row.model);
    if (tasks === undefined) models.set(row.model, (tasks = new Map<string, TaskSamples>()));
    let task = tasks.get(row.taskId);
    if (task === undefined)
      tasks.set(row.taskId, (task = { taskId: row.taskId, category: row.category, rows: [], n: 0, c: 0 }));
    task.rows.push(row);
    if (!unscoredVerdicts.has(row.verdict)) {
      task.n++;
      if (row.passed) task.c++;
    }
  }
  const sorted = new Map<string, TaskSamples[]>();
  for (const model of [...models.keys()].sort(naturalCompare)) {
    const tasks = [...(models.get(model)?.values() ?? [])].sort((a, b) => naturalCompare(a.taskId, b.taskId));
    for (const task of tasks)
      task.rows.sort((a, b) => a.sampleIndex - b.sampleIndex || naturalCompare(a.runId, b.runId));
    sorted.set(model, tasks);
  }
  return sorted;
}
