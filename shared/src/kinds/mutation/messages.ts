import { z } from 'zod';
import { idSchema, objectRefSchema } from '../../messages/index.js';
import { mutationOperatorIds, type MessageDef } from '../../workflow/index.js';

/** How mutants are made and run; travels with every job of the run. */
export const mutationSettingsSchema = z.object({
  /** Operator ids (`--operators`); all when absent. */
  operators: z.array(z.enum(mutationOperatorIds)).min(1).optional(),
  /** At most this many mutants per project, chosen evenly and the same way every time. */
  maxMutants: z.number().int().positive().optional(),
  /** A mutant's phase may take max(timeoutFloorMs, timeoutFactor × the baseline time of its tests). */
  timeoutFactor: z.number().min(1).max(1000).default(10),
  timeoutFloorMs: z.number().int().min(100).max(600_000).default(1500),
  baselineTimeoutMs: z.number().int().min(1000).max(1_800_000).default(300_000),
  /** Mutants per sandbox job; by default batches aim at `batchTargetMs` of estimated work each. */
  batchMutants: z.number().int().positive().max(2000).optional(),
  batchTargetMs: z.number().int().positive().max(600_000).default(15_000),
  /**
   * `tail` (exact): a mutant's tests are every test from the first one that reaches it on, in order, as a
   * full pytest run would see them (a later test may see state the mutated code left). `covering`: only the
   * tests that reach it (mutmut's and Stryker's way: faster, may miss a kill through such state).
   */
  testScope: z.enum(['tail', 'covering']).default('tail'),
  /** With enough work, at least this many batches, so several sandboxes share a project. */
  minBatches: z.number().int().min(1).max(1000).default(2),
  memoryMb: z.number().int().min(64).max(8192).default(512),
});
export type MutationSettings = z.infer<typeof mutationSettingsSchema>;

/**
 * The `spec` of a mutation run: projects (a JSONL bundle, one project per line), the passing solutions
 * of a solve run (`fromRun`), or the surviving mutants of an earlier mutation run (`rerunSurvivors`).
 */
export const mutationSpecSchema = mutationSettingsSchema
  .extend({
    projects: objectRefSchema.optional(),
    fromRun: idSchema.optional(),
    rerunSurvivors: idSchema.optional(),
  })
  .refine((s) => [s.projects, s.fromRun, s.rerunSurvivors].filter((x) => x !== undefined).length === 1, {
    message: 'a mutation run takes exactly one of projects, fromRun and rerunSurvivors',
  });
export type MutationSpec = z.infer<typeof mutationSpecSchema>;

/** Project ids end up in job ids and keys (`<project>/b3`): no `/`. */
export const projectIdSchema = z
  .string()
  .min(1)
  .max(120)
  .regex(/^[A-Za-z0-9._:@+-]+$/, 'project ids use letters, digits and . _ : @ + - only');

/** One project: its files, which of them are mutated (`source`) and which are tests (run by pytest). */
export const projectSchema = z.object({
  id: projectIdSchema,
  files: z.record(z.string(), z.string()),
  source: z.array(z.string()).min(1),
  tests: z.array(z.string()).min(1),
});
export type Project = z.infer<typeof projectSchema>;

const common = {
  project: projectIdSchema,
  /** The project as its own artifact (claim check). */
  bundle: objectRefSchema,
  settings: mutationSettingsSchema,
};

export const mutatePayloadSchema = z.object({
  ...common,
  /** Re-run these mutants of an earlier run (same ids, same changes) instead of making new ones. */
  rerun: z.object({ mutants: objectRefSchema, only: z.array(z.string()) }).optional(),
});
export const baselinePayloadSchema = z.object({
  ...common,
  mutants: objectRefSchema,
  count: z.number().int().positive(),
});
export const planPayloadSchema = z.object({ ...common, mutants: objectRefSchema, baseline: objectRefSchema });
export const batchPayloadSchema = z.object({
  ...common,
  plan: objectRefSchema,
  batch: z.number().int().nonnegative(),
  /** The batch's mutant ids (what a dead-lettered batch reports). */
  ids: z.array(z.string()).min(1),
});
export type MutatePayload = z.infer<typeof mutatePayloadSchema>;
export type BaselinePayload = z.infer<typeof baselinePayloadSchema>;
export type PlanPayload = z.infer<typeof planPayloadSchema>;
export type BatchPayload = z.infer<typeof batchPayloadSchema>;

export const mutationMessages = {
  mutate: {
    type: 'mutation.mutate',
    stage: 'mutate',
    schema: mutatePayloadSchema,
    timeoutMs: 5 * 60_000,
    description: 'Parse a project and make its mutants (the mutator).',
  },
  baseline: {
    type: 'mutation.baseline',
    stage: 'evaluate',
    schema: baselinePayloadSchema,
    timeoutMs: 35 * 60_000,
    description: "Run a project's suite once in the sandbox: which tests pass, how long, which mutants each reaches.",
  },
  plan: {
    type: 'mutation.plan',
    stage: 'mutate',
    schema: planPayloadSchema,
    timeoutMs: 5 * 60_000,
    description: 'Decide which tests run against each mutant and their budgets; fan out one job per batch.',
  },
  batch: {
    type: 'mutation.batch',
    stage: 'evaluate',
    schema: batchPayloadSchema,
    timeoutMs: 35 * 60_000,
    description: 'Run a batch of mutants against their tests in the sandbox.',
  },
} as const satisfies Record<string, MessageDef>;
