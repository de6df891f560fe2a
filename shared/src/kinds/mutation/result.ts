import { z } from 'zod';
import type { DeadLetterInfo } from '../../workflow/index.js';

/**
 * A mutant's status. `killed`: a test failed (or the run crashed) with it; `survived`: every test passed;
 * `timeout`: its tests ran past their budget; `incompetent`: it does not compile, or the project does not
 * import or collect with it; `no_coverage`: no test reaches it (not run); `infra_error`: the sandbox could
 * not give a verdict.
 */
export const mutantStatuses = ['killed', 'survived', 'timeout', 'incompetent', 'no_coverage', 'infra_error'] as const;
export type MutantStatus = (typeof mutantStatuses)[number];

export const mutantOutcomeSchema = z.object({
  id: z.string(),
  status: z.enum(mutantStatuses),
  /** The test that failed first (collection order). */
  killedBy: z.array(z.string()).optional(),
  testsRun: z.number().int().nonnegative().optional(),
  durationMs: z.number().nonnegative().optional(),
  reason: z.string().optional(),
});
export type MutantOutcome = z.infer<typeof mutantOutcomeSchema>;

export const baselineSummarySchema = z.object({
  passed: z.boolean(),
  tests: z.number().int().nonnegative(),
  /** Tests that failed or errored, in order. */
  failing: z.array(z.string()),
  reason: z.string().optional(),
  message: z.string().optional(),
  durationMs: z.number().nonnegative(),
});
export type BaselineSummary = z.infer<typeof baselineSummarySchema>;

/**
 * A job's terminal result. A project's own job (`role: project`) ends once its batches are planned, with
 * the mutants no test reaches; each batch (`role: batch`, job `<project>/b<n>`) ends with its mutants.
 * Every mutant is in exactly one result.
 */
export const mutationResultSchema = z.object({
  project: z.string(),
  role: z.enum(['project', 'batch']),
  batch: z.number().int().nonnegative().optional(),
  mutants: z.array(mutantOutcomeSchema),
  /** project: how many mutants it has, and in how many batches they run. */
  total: z.number().int().nonnegative().optional(),
  batches: z.number().int().nonnegative().optional(),
  baseline: baselineSummarySchema.optional(),
  /** Why the project could not be mutation-tested (a failing baseline, nothing to mutate, bad input). */
  error: z.string().optional(),
  deadLetter: z.object({ stage: z.string(), type: z.string(), code: z.string(), message: z.string() }).optional(),
});
export type MutationResult = z.infer<typeof mutationResultSchema>;

const ids = z.object({ project: z.string(), batch: z.number().int().nonnegative(), ids: z.array(z.string()) });

/** A dead-lettered batch reports its mutants as `infra_error`; a project's own job reports the error. */
export function mutationDeadLettered(info: DeadLetterInfo): MutationResult {
  const deadLetter = { stage: info.stage, type: info.type, code: info.code, message: info.message.slice(0, 500) };
  const batch = ids.safeParse(info.payload);
  if (batch.success) {
    const reason = `dead-lettered: ${info.code}`;
    return {
      project: batch.data.project,
      role: 'batch',
      batch: batch.data.batch,
      mutants: batch.data.ids.map((id) => ({ id, status: 'infra_error', reason })),
      deadLetter,
    };
  }
  const project = z.object({ project: z.string() }).safeParse(info.payload);
  const name = project.success ? project.data.project : info.jobId.split('/')[0] || info.jobId;
  return {
    project: name,
    role: 'project',
    mutants: [],
    error: `${info.code}: ${info.message}`.slice(0, 500),
    deadLetter,
  };
}
