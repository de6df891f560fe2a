import { z } from 'zod';
import { objectRefSchema } from '../../messages/index.js';
import { modelUsageSchema as usageSchema, type MessageDef } from '../../workflow/index.js';

/** `run.requested`'s spec for `repair`: bugs × models × samples, each up to `maxTurns` turns. */
export const repairSpecSchema = z
  .object({
    /** The bug dataset (native JSONL), uploaded by content hash. */
    dataset: objectRefSchema,
    models: z.array(z.string().min(1)).default([]),
    /** Independent attempts per bug and model (the n of repair@k). */
    samples: z.number().int().min(1).max(100).default(1),
    /** Turns per attempt: the first answer, then each retry with the new error. */
    maxTurns: z.number().int().min(1).max(10).default(3),
    bugIds: z.array(z.string().min(1)).optional(),
    categories: z.array(z.string().min(1)).optional(),
    limit: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(2).default(0.2),
    maxTokens: z.number().int().positive().max(128_000).default(2048),
    timeoutMs: z.number().int().positive().max(600_000).default(30_000),
    memoryMb: z.number().int().positive().max(8192).default(512),
    budgetUsd: z.number().positive().optional(),
    noCache: z.boolean().default(false),
    /** Evaluate given answers (`{bug_id, completion}` per line) instead of calling models. */
    patches: objectRefSchema.optional(),
  })
  .refine((s) => s.models.length > 0 || s.patches !== undefined, {
    message: 'a repair run needs models or a patches file',
  });
export type RepairSpec = z.infer<typeof repairSpecSchema>;

export {
  modelUsageSchema as usageSchema,
  noModelUsage as noUsage,
  type ModelUsage as Usage,
} from '../../workflow/index.js';

/** What one turn came to (kept in the payload, so the result has every turn). */
export const turnSummarySchema = usageSchema.extend({
  turn: z.number().int().positive(),
  /** fixed: the suite passes; failed: tests still fail; unusable: the answer could not be applied. */
  outcome: z.enum(['fixed', 'failed', 'unusable']),
  reason: z.string().optional(),
  cached: z.boolean().default(false),
  failing: z.array(z.string()).default([]),
  regressions: z.array(z.string()).default([]),
});
export type TurnSummary = z.infer<typeof turnSummarySchema>;

const identity = {
  bugId: z.string(),
  model: z.string(),
  sampleIndex: z.number().int().nonnegative(),
  category: z.string(),
  /** The bug (files, tests, failing tests, traceback) as its own artifact. */
  bug: objectRefSchema,
  maxTurns: z.number().int().positive(),
  temperature: z.number(),
  maxTokens: z.number().int().positive(),
  timeoutMs: z.number().int().positive(),
  memoryMb: z.number().int().positive(),
  budgetUsd: z.number().positive().optional(),
  noCache: z.boolean().default(false),
};

export const baselinePayloadSchema = z.object({
  ...identity,
  /** `--patches`: the given answer and its line in the patches file. */
  given: z.object({ line: z.number().int().nonnegative(), answer: z.string() }).optional(),
});
export type BaselinePayload = z.infer<typeof baselinePayloadSchema>;

export const generatePayloadSchema = z.object({
  ...identity,
  /** The turn about to be asked for (1-based). */
  turn: z.number().int().positive(),
  /** Turn 1: the traceback (given, or the baseline's failure output); later: "New error: …". */
  feedback: z.string(),
  /** The conversation and patched files after the previous turn; absent before the first. */
  state: objectRefSchema.optional(),
  usage: usageSchema,
  history: z.array(turnSummarySchema),
});
export type GeneratePayload = z.infer<typeof generatePayloadSchema>;

export const evaluatePayloadSchema = z.object({
  ...identity,
  turn: z.number().int().positive(),
  /** The conversation and patched files of this turn. */
  state: objectRefSchema,
  usage: usageSchema,
  history: z.array(turnSummarySchema),
  /** The answer's cost, for this turn's summary. */
  turnUsage: usageSchema.extend({ cached: z.boolean() }),
  given: z.object({ line: z.number().int().nonnegative() }).optional(),
});
export type EvaluatePayload = z.infer<typeof evaluatePayloadSchema>;

export const repairMessages = {
  baseline: {
    type: 'repair.baseline',
    stage: 'evaluate',
    schema: baselinePayloadSchema,
    timeoutMs: 10 * 60_000,
    description: "Run the bug's suite on the buggy code: what fails, and the output a model starts from.",
  },
  generate: {
    type: 'repair.generate',
    stage: 'generate',
    schema: generatePayloadSchema,
    timeoutMs: 5 * 60_000,
    retry: { maxAttempts: 6, delaysMs: [1_000, 5_000, 30_000, 120_000] },
    description: 'Ask the model for corrected functions (with the new error after the first turn) and apply them.',
  },
  evaluate: {
    type: 'repair.evaluate',
    stage: 'evaluate',
    schema: evaluatePayloadSchema,
    timeoutMs: 10 * 60_000,
    description: 'Run the whole suite on the patched project; fixed ends the attempt, else the next turn.',
  },
} as const satisfies Record<string, MessageDef>;
