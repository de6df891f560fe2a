import { naturalCompare, percentile } from './ordering.js';
import { passAtK } from './pass-at-k.js';
import { unscoredVerdicts, verdicts, type ResultRow, type Verdict } from './result-row.js';
import { groupByModelTask, type TaskSamples } from './tasks.js';

export interface PassAtKEntry {
  k: number;
  /** Mean over tasks with at least k scored samples, each with its own n. */
  value: number;
  /** How many tasks the mean covers. */
  tasks: number;
}

export interface CategorySummary {
  category: string;
  tasks: number;
  samples: number;
  passedSamples: number;
  solvedTasks: number;
  /** Mean of c/n over the category's tasks with scored samples; null when there are none. */
  passAt1: number | null;
}

export interface Distribution {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

export interface ModelSummary {
  model: string;
  /** All result rows, whatever their verdict. */
  samples: number;
  /** Rows with a model verdict (not infra_error, budget_exhausted or dead_lettered): the pass@k and rate denominator. */
  scoredSamples: number;
  passedSamples: number;
  tasks: number;
  /** Tasks with at least one passing sample. */
  solvedTasks: number;
  /** Scored samples per task, smallest and largest. */
  samplesPerTask: { min: number; max: number };
  passAtK: PassAtKEntry[];
  categories: CategorySummary[];
  verdicts: Record<Verdict, number>;
  noCodeRate: number | null;
  syntaxErrorRate: number | null;
  /** Provider latency of calls that were not served from the cache. */
  latencyMs: Distribution | null;
  /** Sandbox time. */
  durationMs: Distribution | null;
  tokens: { prompt: number; completion: number; total: number };
  costUsd: number;
  /** Total cost divided by solved tasks; null when nothing was solved. */
  costPerSolvedTask: number | null;
  budgetExhausted: number;
  infraErrors: number;
  /** Jobs that ended in a dead-letter queue (`evalfleet dlq requeue <stage>` runs them again). */
  deadLettered: number;
  cached: number;
  /** Evaluated samples by who decided their verdict (see SECURITY.md). */
  integrity: Record<'checker' | 'handle' | 'in-process', number>;
}

export interface Summary {
  models: ModelSummary[];
  totals: { models: number; tasks: number; samples: number; costUsd: number };
}

export interface SummarizeOptions {
  /** Which k to report; default every k from 1 to the largest samples-per-task. */
  ks?: readonly number[];
}

/** Per-model scores of a run's results: pass@k, per-category pass@1, verdicts, latency, tokens and cost. */
export function summarize(results: readonly ResultRow[], opts: SummarizeOptions = {}): Summary {
  const byModel = groupByModelTask(results);
  const models = [...byModel.entries()].map(([model, tasks]) => summarizeModel(model, tasks, opts));
  const taskIds = new Set<string>();
  for (const tasks of byModel.values()) for (const t of tasks) taskIds.add(t.taskId);
  return {
    models,
    totals: {
      models: models.length,
      tasks: taskIds.size,
      samples: models.reduce((sum, m) => sum + m.samples, 0),
      costUsd: models.reduce((sum, m) => sum + m.costUsd, 0),
    },
  };
}

function summarizeModel(model: string, tasks: readonly TaskSamples[], opts: SummarizeOptions): ModelSummary {
  const rows = tasks.flatMap((t) => t.rows);
  const counts = Object.fromEntries(verdicts.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const row of rows) counts[row.verdict]++;
  const scored = rows.filter((r) => !unscoredVerdicts.has(r.verdict));
  const ns = tasks.map((t) => t.n);
  const maxN = Math.max(0, ...ns);
  const ks = opts.ks ?? Array.from({ length: maxN }, (_, i) => i + 1);
  const solvedTasks = tasks.filter((t) => t.c > 0).length;
  const costUsd = sum(rows.map((r) => r.costUsd ?? 0));
  const prompt = sum(rows.map((r) => r.promptTokens ?? 0));
  const completion = sum(rows.map((r) => r.completionTokens ?? 0));
  return {
    model,
    samples: rows.length,
    scoredSamples: scored.length,
    passedSamples: scored.filter((r) => r.passed).length,
    tasks: tasks.length,
    solvedTasks,
    samplesPerTask: { min: tasks.length === 0 ? 0 : Math.min(...ns), max: maxN },
    passAtK: ks.flatMap((k) => {
      const eligible = tasks.filter((t) => t.n >= k && t.n > 0);
      if (eligible.length === 0) return [];
      return [{ k, value: mean(eligible.map((t) => passAtK(t.n, t.c, k))), tasks: eligible.length }];
    }),
    categories: summarizeCategories(tasks),
    verdicts: counts,
    noCodeRate: scored.length === 0 ? null : counts.no_code / scored.length,
    syntaxErrorRate: scored.length === 0 ? null : counts.syntax_error / scored.length,
    latencyMs: distribution(rows.filter((r) => r.cached !== true).map((r) => r.latencyMs)),
    durationMs: distribution(rows.map((r) => r.durationMs)),
    tokens: { prompt, completion, total: prompt + completion },
    costUsd,
    costPerSolvedTask: solvedTasks === 0 ? null : costUsd / solvedTasks,
    budgetExhausted: counts.budget_exhausted,
    infraErrors: counts.infra_error,
    deadLettered: counts.dead_lettered,
    cached: rows.filter((r) => r.cached === true).length,
    integrity: {
      checker: rows.filter((r) => r.integrity === 'checker').length,
      handle: rows.filter((r) => r.integrity === 'handle').length,
      'in-process': rows.filter((r) => r.integrity === 'in-process').length,
    },
  };
}

function summarizeCategories(tasks: readonly TaskSamples[]): CategorySummary[] {
  const byCategory = new Map<string, TaskSamples[]>();
  for (const task of tasks) byCategory.set(task.category, [...(byCategory.get(task.category) ?? []), task]);
  return [...byCategory.entries()]
    .sort(([a], [b]) => naturalCompare(a, b))
    .map(([category, group]) => {
      const scored = group.filter((t) => t.n > 0);
      return {
        category,
        tasks: group.length,
        samples: sum(group.map((t) => t.n)),
        passedSamples: sum(group.map((t) => t.c)),
        solvedTasks: group.filter((t) => t.c > 0).length,
        passAt1: scored.length === 0 ? null : mean(scored.map((t) => t.c / t.n)),
      };
    });
}

function distribution(values: readonly (number | undefined)[]): Distribution | null {
  const present = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (present.length === 0) return null;
  return {
    count: present.length,
    mean: mean(present),
    p50: percentile(present, 0.5),
    p90: percentile(present, 0.9),
    p99: percentile(present, 0.99),
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function mean(values: readonly number[]): number {
  return sum(values) / values.length;
}
