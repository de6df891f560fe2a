import { groupByModelTask, passAtK, type PassAtKEntry, type ResultRow } from '../../scoring/index.js';
import type { TypedResult } from '../../workflow/index.js';
import type { SolveResult } from './result.js';

type Stored = TypedResult<SolveResult>;

/** The k EvalPlus reports (evaluate.py: 1, 10, 100, each when every task has at least k samples). */
export const EVALPLUS_KS = [1, 10, 100] as const;

export type EvalPlusModelSummary = {
  model: string;
  tasks: number;
  samples: number;
  /** pass@k on the base tests, and on base + plus tests (EvalPlus's "HumanEval+"/"MBPP+" score). */
  base: PassAtKEntry[];
  plus: PassAtKEntry[];
  statuses: Record<'base' | 'plus', Record<string, number>>;
};

export type EvalPlusSummary = {
  ks: readonly number[];
  models: EvalPlusModelSummary[];
  /** Inputs left out per task (they break its contract, or its reference fails on them). */
  excludedInputs: { taskId: string; count: number }[];
};

/**
 * pass@k on base and on plus tests, as EvalPlus computes them: a sample passes "plus" when its base and its
 * plus status are both `pass`; every scored sample counts, including those that never reached the sandbox.
 */
export function evalplusSummary(
  rows: readonly (ResultRow & Pick<SolveResult, 'evalplus'>)[],
): EvalPlusSummary | undefined {
  if (!rows.some((r) => r.evalplus !== undefined)) return undefined;
  const models: EvalPlusModelSummary[] = [];
  const excluded = new Map<string, number>();
  for (const [model, tasks] of groupByModelTask(rows)) {
    const statuses = { base: {} as Record<string, number>, plus: {} as Record<string, number> };
    const counts = tasks.map((task) => {
      let base = 0;
      let plus = 0;
      for (const row of task.rows as (ResultRow & Pick<SolveResult, 'evalplus'>)[]) {
        const outcome = row.evalplus;
        if (outcome === undefined) continue;
        excluded.set(task.taskId, outcome.excludedInputs);
        statuses.base[outcome.base] = (statuses.base[outcome.base] ?? 0) + 1;
        statuses.plus[outcome.plus] = (statuses.plus[outcome.plus] ?? 0) + 1;
        if (outcome.base === 'pass') base++;
        if (outcome.base === 'pass' && outcome.plus === 'pass') plus++;
      }
      return { n: task.n, base: Math.min(base, task.n), plus: Math.min(plus, task.n) };
    });
    const scored = counts.filter((c) => c.n > 0);
    const atK = (pick: (c: (typeof counts)[number]) => number): PassAtKEntry[] =>
      EVALPLUS_KS.filter((k) => scored.length > 0 && scored.every((c) => c.n >= k)).map((k) => ({
        k,
        value: scored.reduce((sum, c) => sum + passAtK(c.n, pick(c), k), 0) / scored.length,
        tasks: scored.length,
      }));
    models.push({
      model,
      tasks: tasks.length,
      samples: scored.reduce((sum, c) => sum + c.n, 0),
      base: atK((c) => c.base),
      plus: atK((c) => c.plus),
      statuses,
    });
  }
  return {
    ks: EVALPLUS_KS,
    models,
    excludedInputs: [...excluded].filter(([, count]) => count > 0).map(([taskId, count]) => ({ taskId, count })),
  };
}

/** The sandbox images a run's samples ran in (tag, manifest digest) and how many samples each. */
export function sandboxImages(results: readonly Stored[]) {
  const images = new Map<string, NonNullable<SolveResult['sandboxImage']> & { samples: number }>();
  for (const r of results) {
    const image = r.result.sandboxImage;
    if (!image) continue;
    const key = `${image.tag}\n${image.manifestSha256 ?? ''}`;
    const known = images.get(key);
    if (known) known.samples++;
    else images.set(key, { ...image, samples: 1 });
  }
  return [...images.values()];
}
