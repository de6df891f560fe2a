// From a project's mutants and baseline to its plan: which tests run against each mutant, which mutants
// no test reaches, the budgets, and the batches. Pure and deterministic: the same inputs give the same plan
// whatever the fleet's size (so statuses do not depend on how many evaluators ran them).
import type { MutantsBatchMutant } from '../../workflow/index.js';
import type { BaselineDoc, MutantsDoc, PlanDoc } from './artifacts.js';
import type { MutationSettings } from './messages.js';

/** Mirrors the sandbox runtime's Budget (efsbx_mutants_run.py): fork slack per phase. */
const FORK_SLACK_MS = 250;
/** What one mutant costs beyond its tests (fork, swap, report), for sizing batches only. */
const MUTANT_OVERHEAD_MS = 30;
/** A sandbox job may run 30 minutes at most; a batch stays well under it. */
const MAX_JOB_MS = 25 * 60_000;
/** Results travel as one reply per job (bounded messages): batches stay small enough. */
const MAX_BATCH = 400;
/** Each batch pays a collection (pytest, the project's import): not worth splitting work below this. */
const MIN_BATCH_MS = 2_000;
/** Time a job needs besides its mutants: starting, importing pytest, collecting (× factor), reporting. */
const JOB_SLACK_MS = 30_000;

type Timing = Pick<PlanDoc, 'testMs' | 'setupMs' | 'factor' | 'floorMs'>;

function phaseBudget(t: Timing, tests: readonly number[], fresh: boolean): number {
  const work = Math.max(t.floorMs, t.factor * tests.reduce((sum, i) => sum + (t.testMs[i] ?? 0), 0));
  return work + (fresh ? t.factor * t.setupMs : 0) + FORK_SLACK_MS;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/** The most a mutant may take in the sandbox: its phases' budgets. */
export function mutantBudget(t: Timing, m: MutantsBatchMutant): number {
  if (m.first < 0) return phaseBudget(t, m.run, false);
  const tail = range(m.first, t.testMs.length);
  if (m.fresh) return phaseBudget(t, tail, true);
  // Reached while collecting: the sandbox may still find it needs a fresh import.
  const collected = m.first === 0 && m.run.length === t.testMs.length;
  return phaseBudget(t, m.run, false) + phaseBudget(t, tail, collected);
}

/** The sandbox job's limit for these mutants. */
export function batchTimeout(t: Timing, mutants: readonly MutantsBatchMutant[]): number {
  const collector = t.factor * t.setupMs + t.floorMs;
  const total = mutants.reduce((sum, m) => sum + mutantBudget(t, m), collector + JOB_SLACK_MS);
  return Math.min(Math.ceil(total), 30 * 60_000);
}

function estimate(t: Timing, m: MutantsBatchMutant): number {
  const ms = (tests: readonly number[]) => tests.reduce((sum, i) => sum + (t.testMs[i] ?? 0), 0);
  return MUTANT_OVERHEAD_MS + (m.fresh ? t.setupMs + ms(range(m.first, t.testMs.length)) : ms(m.run));
}

export function buildPlan(
  mutants: MutantsDoc,
  baseline: BaselineDoc,
  settings: MutationSettings,
  testFiles: string[],
): PlanDoc {
  const timing: Timing = {
    testMs: baseline.tests.map((t) => Math.round(t.ms * 1000) / 1000),
    setupMs: Math.round(baseline.setupMs),
    factor: settings.timeoutFactor,
    floorMs: settings.timeoutFloorMs,
  };
  const everyTest = range(0, baseline.tests.length);
  const reachedBy = mutants.mutants.map((): number[] => []);
  baseline.reached.forEach((indexes, test) => {
    for (const i of indexes) reachedBy[i]?.push(test);
  });
  const atImport = new Set(baseline.collect);
  const covered: Record<string, number[]> = {};
  const noCoverage: string[] = [];
  const runnable: MutantsBatchMutant[] = [];
  mutants.mutants.forEach((m, i) => {
    const collected = atImport.has(i);
    // Reached while collecting: every test may see it. A function body that ran at import (a table built
    // by a call) needs a fresh import; code that runs at import anyway is left to the sandbox, which sets
    // new constant defaults on the live functions and re-imports for the rest.
    const fresh = collected && m.inFunction;
    const run = collected ? everyTest : (reachedBy[i] ?? []);
    if (run.length === 0) {
      noCoverage.push(m.id);
      return;
    }
    covered[m.id] = run;
    const first = settings.testScope === 'covering' && !collected ? -1 : (run[0] ?? 0);
    runnable.push({ id: m.id, file: m.file, lines: m.lines, text: m.text, run, first, fresh });
  });
  const batches = splitBatches(runnable, timing, settings).map((mutants) => ({
    timeoutMs: batchTimeout(timing, mutants),
    mutants,
  }));
  return {
    testFiles,
    tests: baseline.tests.map((t) => t.name),
    ...timing,
    covered,
    noCoverage,
    batches,
  };
}

/**
 * Consecutive batches of about equal estimated work: enough of them to spread over `minBatches` sandboxes
 * when there is work for it, none above the target, each job within its time limit.
 */
function splitBatches(
  runnable: readonly MutantsBatchMutant[],
  timing: Timing,
  settings: MutationSettings,
): MutantsBatchMutant[][] {
  const cost = runnable.map((m) => estimate(timing, m));
  const total = cost.reduce((a, b) => a + b, 0);
  const count = settings.batchMutants
    ? Math.ceil(runnable.length / settings.batchMutants)
    : Math.max(
        Math.ceil(total / settings.batchTargetMs),
        Math.min(settings.minBatches, Math.floor(total / MIN_BATCH_MS)),
        Math.ceil(runnable.length / MAX_BATCH),
        1,
      );
  const out: MutantsBatchMutant[][] = [];
  let current: MutantsBatchMutant[] = [];
  let done = 0;
  let budget = 0;
  runnable.forEach((m, i) => {
    const full = settings.batchMutants
      ? current.length >= settings.batchMutants
      : done >= ((out.length + 1) * total) / count;
    const mb = mutantBudget(timing, m);
    if (current.length > 0 && (full || budget + mb > MAX_JOB_MS)) {
      out.push(current);
      current = [];
      budget = 0;
    }
    current.push(m);
    done += cost[i] ?? 0;
    budget += mb;
  });
  if (current.length > 0) out.push(current);
  return out;
}

/** `count` of `items`, spread evenly and always the same ones (`--max-mutants`). */
export function pickEvenly<T>(items: readonly T[], count: number): T[] {
  if (count >= items.length) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.floor((i * items.length) / count)]).filter(
    (x): x is T => x !== undefined,
  );
}
