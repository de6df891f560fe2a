// The sandbox's `mutants` runner: mutation testing of a project (services/evaluator/sandbox-runtime/
// efsbx_mutants.py). A job is either the baseline (the whole suite once, with per-test coverage of the
// mutants) or a batch of mutants, each applied without re-importing the project where a function's code
// can carry it. The project's tests and mutants run as the job's uid; every verdict is `in-process`.
import type { SandboxJobBase } from './sandbox.js';

/** The baseline: which tests pass, how long each takes, which mutants each reaches (by index in `mutants`). */
export type MutantsBaselinePlan = {
  mode: 'baseline';
  /** The files pytest is given, as `python -m pytest <testFiles>` would be. */
  testFiles: string[];
  mutants: { file: string; cover: [number, number] }[];
};

export type MutantsBatchMutant = {
  id: string;
  file: string;
  /** Lines `lines[0]..lines[1]` of `file` are replaced by `text` (as many lines). */
  lines: [number, number];
  text: string;
  /** Tests (indexes into `tests`) that reached the mutant in the baseline, in collection order. */
  run: number[];
  /**
   * The first test that reached it (0 when collecting did): every test from it on runs, in order. -1: only
   * the tests in `run` (the covering-only scope).
   */
  first: number;
  /** It changes what importing the project does: run with a fresh import. */
  fresh: boolean;
};

export type MutantsBatchPlan = {
  mode: 'mutants';
  testFiles: string[];
  /** Every test of the baseline (pytest node ids) in collection order, and its baseline duration. */
  tests: string[];
  testMs: number[];
  /** The baseline's time to import and collect. */
  setupMs: number;
  /** A phase of a mutant may take max(floorMs, factor × the baseline time of its tests). */
  factor: number;
  floorMs: number;
  mutants: MutantsBatchMutant[];
};

/**
 * Results: the baseline's tests are `@collect` (message `c:<index ranges>`: the mutants reached while
 * collecting) and then each test with its outcome; a passing one's message lists the mutants it reached the
 * same way. A batch's tests are its mutants by id, outcome `passed` (it was run to a verdict) and the
 * message `{"s": killed|survived|timeout|incompetent|error, "by": [test], "n": tests run, "why": text}`.
 */
export type SandboxMutantsJob = SandboxJobBase & {
  runner: 'mutants';
  /** The project: relative path → text (the same bounds as a project job). */
  files: Record<string, string>;
  plan: MutantsBaselinePlan | MutantsBatchPlan;
};
