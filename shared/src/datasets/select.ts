import type { Problem } from './problem.js';

export interface ProblemFilter {
  /** Keep only these categories (exact match). */
  categories?: readonly string[];
  /** Keep only these task ids. */
  taskIds?: readonly string[];
  /** At most this many problems per category, in file order (`--quick-test` is `perCategory: 1`). */
  perCategory?: number;
  /** At most this many problems overall, applied last. */
  limit?: number;
}

/** Filter a problem set, keeping file order so runs over the same set are reproducible. */
export function selectProblems(problems: readonly Problem[], filter: ProblemFilter = {}): Problem[] {
  const categories = filter.categories === undefined ? undefined : new Set(filter.categories);
  const taskIds = filter.taskIds === undefined ? undefined : new Set(filter.taskIds);
  const perCategory = new Map<string, number>();
  const selected: Problem[] = [];
  for (const problem of problems) {
    if (filter.limit !== undefined && selected.length >= filter.limit) break;
    if (categories !== undefined && !categories.has(problem.category)) continue;
    if (taskIds !== undefined && !taskIds.has(problem.taskId)) continue;
    if (filter.perCategory !== undefined) {
      const taken = perCategory.get(problem.category) ?? 0;
      if (taken >= filter.perCategory) continue;
      perCategory.set(problem.category, taken + 1);
    }
    selected.push(problem);
  }
  return selected;
}

/** Categories with their problem counts, sorted by name. */
export function listCategories(problems: readonly Problem[]): { category: string; problems: number }[] {
  const counts = new Map<string, number>();
  for (const problem of problems) counts.set(problem.category, (counts.get(problem.category) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([category, count]) => ({ category, problems: count }));
}
