import { naturalCompare } from './ordering.js';
import type { ResultRow } from './result-row.js';
import { groupByModelTask } from './tasks.js';

export interface ModelTaskResult {
  /** Scored samples (see `unscoredVerdicts`). */
  samples: number;
  passed: number;
  /** passed / samples; null when no sample was scored. */
  passAt1: number | null;
  /** Mean provider latency of the task's uncached samples; null when none was measured. */
  meanLatencyMs: number | null;
}

export interface TaskComparison {
  taskId: string;
  category: string;
  /** Only models with results for this task appear. */
  models: Record<string, ModelTaskResult>;
  /** Models with at least one passing sample, in model order. */
  solvedBy: string[];
}

export interface Comparison {
  models: string[];
  categories: string[];
  tasks: TaskComparison[];
}

/** The cross-model comparison: for each task, how each model did. */
export function compare(results: readonly ResultRow[]): Comparison {
  const byModel = groupByModelTask(results);
  const tasks = new Map<string, TaskComparison>();
  for (const [model, modelTasks] of byModel) {
    for (const task of modelTasks) {
      let entry = tasks.get(task.taskId);
      if (entry === undefined)
        tasks.set(task.taskId, (entry = { taskId: task.taskId, category: task.category, models: {}, solvedBy: [] }));
      const latencies = task.rows
        .filter((r) => r.cached !== true && r.latencyMs !== undefined)
        .map((r) => r.latencyMs ?? 0);
      entry.models[model] = {
        samples: task.n,
        passed: task.c,
        passAt1: task.n === 0 ? null : task.c / task.n,
        meanLatencyMs: latencies.length === 0 ? null : latencies.reduce((a, b) => a + b, 0) / latencies.length,
      };
      if (task.c > 0) entry.solvedBy.push(model);
    }
  }
  const sortedTasks = [...tasks.values()].sort((a, b) => naturalCompare(a.taskId, b.taskId));
  return {
    models: [...byModel.keys()],
    categories: [...new Set(sortedTasks.map((t) => t.category))].sort(naturalCompare),
    tasks: sortedTasks,
  };
}
