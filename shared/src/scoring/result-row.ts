import { z } from 'zod';

export const verdicts = [
  'passed',
  'failed',
  'error',
  'timeout',
  'oom',
  'infra_error',
  'no_code',
  'syntax_error',
  'budget_exhausted',
  'dead_lettered',
] as const;
export type Verdict = (typeof verdicts)[number];
export const verdictSchema = z.enum(verdicts);

/**
 * Verdicts that say nothing about the model: the sandbox or provider failed
 * for good, the run's budget stopped the sample before it was generated, or
 * the job was dead-lettered (see `evalfleet dlq`). They are counted and shown,
 * but left out of pass@k and the rates.
 */
export const unscoredVerdicts: ReadonlySet<Verdict> = new Set<Verdict>([
  'infra_error',
  'budget_exhausted',
  'dead_lettered',
]);

export const testOutcomeSchema = z.object({ name: z.string(), outcome: z.string() });

/** One sample's terminal result: the unit every report is computed from. */
export const resultRowSchema = z.object({
  runId: z.string().min(1),
  taskId: z.string().min(1),
  model: z.string().min(1),
  sampleIndex: z.number().int().nonnegative(),
  category: z.string().min(1),
  verdict: verdictSchema,
  passed: z.boolean(),
  /** Extraction outcome and method, e.g. "ok" or "ok/fenced_python". */
  extraction: z.string().optional(),
  tests: z.array(testOutcomeSchema).optional(),
  code: z.string().optional(),
  promptTokens: z.number().int().nonnegative().optional(),
  completionTokens: z.number().int().nonnegative().optional(),
  costUsd: z.number().nonnegative().optional(),
  /** Provider call latency. */
  latencyMs: z.number().nonnegative().optional(),
  /** Sandbox wall-clock time. */
  durationMs: z.number().nonnegative().optional(),
  /** The response came from the cache (no provider call, no cost). */
  cached: z.boolean().optional(),
  /**
   * Who decided the verdict (SECURITY.md): `checker` (the trusted checker on its own objects),
   * `handle` (it relied on a candidate object's own __eq__/__bool__/__hash__), `in-process` (a
   * suite that had to run inside the candidate's process). Absent when nothing was evaluated.
   */
  integrity: z.enum(['checker', 'handle', 'in-process']).optional(),
  reason: z.string().optional(),
});
export type ResultRow = z.infer<typeof resultRowSchema>;

/** Columns of the per model/category CSV files, in order. */
export const resultRowColumns: readonly (keyof ResultRow)[] = [
  'runId',
  'model',
  'category',
  'taskId',
  'sampleIndex',
  'verdict',
  'passed',
  'extraction',
  'reason',
  'promptTokens',
  'completionTokens',
  'costUsd',
  'latencyMs',
  'durationMs',
  'cached',
  'integrity',
  'tests',
  'code',
];
