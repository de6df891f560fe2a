import { z } from 'zod';
import { objectRefSchema } from '../../messages/index.js';
import type { MessageDef } from '../../workflow/index.js';

/** `evalfleet submit prompt --test` takes this many records. */
export const testLimit = 5;

/**
 * The `spec` of a `run.requested` of kind `prompt` (what any program publishes): the pipeline file
 * and the records file, both uploaded to the artifact store by content hash.
 */
export const promptSpecSchema = z.object({
  pipeline: objectRefSchema,
  records: objectRefSchema,
  idField: z.string().min(1).default('id'),
  /** The first N records only (`--limit`, `--test`). */
  limit: z.number().int().positive().optional(),
  budgetUsd: z.number().positive().optional(),
  noCache: z.boolean().default(false),
});
export type PromptSpec = z.infer<typeof promptSpecSchema>;

/** How one stage of one record ended. */
export const stageOutcomes = ['ok', 'invalid_answer', 'malformed', 'skipped', 'budget_exhausted'] as const;
export type StageOutcome = (typeof stageOutcomes)[number];

/** One stage of one record: the answer (null unless `ok`), what it cost and how it got there. */
export const stageRecordSchema = z.object({
  outcome: z.enum(stageOutcomes),
  answer: z.unknown().nullable().default(null),
  /** Answers asked for in the conversation (1 + retries). */
  tries: z.number().int().nonnegative(),
  /** Provider calls made (answers not from the cache, malformed replies included). */
  calls: z.number().int().nonnegative(),
  /** Answers served from the response cache. */
  cached: z.number().int().nonnegative(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  /** Why it was skipped, or why it failed. */
  reason: z.string().optional(),
  /** The validation errors of the last invalid answer. */
  errors: z.array(z.string()).optional(),
});
export type StageRecord = z.infer<typeof stageRecordSchema>;

export const promptStagePayloadSchema = z.object({
  /** The record's id (the job id is derived from it). */
  id: z.string().min(1),
  /** The record as its own artifact (claim check); the pipeline file likewise. */
  record: objectRefSchema,
  pipeline: objectRefSchema,
  /** The stages done so far, by name, in pipeline order. */
  stages: z.record(z.string(), stageRecordSchema).default({}),
  /** The stage this message runs; the loop's cap is `stageCount`. */
  stageIndex: z.number().int().nonnegative(),
  stageCount: z.number().int().positive(),
  budgetUsd: z.number().positive().optional(),
  noCache: z.boolean().default(false),
});
export type PromptStagePayload = z.infer<typeof promptStagePayloadSchema>;

/** A record's terminal result: every stage's record (the loop's last payload, narrowed). */
export const promptResultSchema = z.object({
  id: z.string().min(1),
  record: objectRefSchema.optional(),
  stages: z.record(z.string(), stageRecordSchema).default({}),
  /**
   * A dead-lettered job: where and why (`evalfleet dlq requeue <stage>` runs it again). The stage
   * it died in is the first without a record.
   */
  deadLetter: z.object({ stage: z.string(), type: z.string(), code: z.string(), message: z.string() }).optional(),
});
export type PromptResult = z.infer<typeof promptResultSchema>;

export const promptMessages = {
  stage: {
    type: 'prompt.stage',
    stage: 'generate',
    schema: promptStagePayloadSchema,
    // A stage may ask several times (retries with validation errors), each under the rate limits.
    timeoutMs: 10 * 60_000,
    retry: { maxAttempts: 6, delaysMs: [1_000, 5_000, 30_000, 120_000] },
    description: 'Run one stage of the prompt pipeline on one record, then loop to the next stage.',
  },
} as const satisfies Record<string, MessageDef>;
