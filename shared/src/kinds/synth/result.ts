import { z } from 'zod';
import { objectRefSchema } from '../../messages/index.js';
import type { DeadLetterInfo } from '../../workflow/index.js';
import { rejectionSchema, scenarioSchema, strategies, usageSchema } from './messages.js';

/** One accepted task of a job; the whole record and its file-edit bundle are artifacts. */
export const taskSummarySchema = z.object({
  instanceId: z.string(),
  strategy: z.enum(strategies),
  operator: z.string().optional(),
  gen: z.number().int().positive(),
  failToPass: z.number().int().positive(),
  passToPass: z.number().int().positive(),
  task: objectRefSchema,
  bundle: objectRefSchema,
});
export type TaskSummary = z.infer<typeof taskSummarySchema>;

const deadLetterSchema = z.object({ stage: z.string(), type: z.string(), code: z.string(), message: z.string() });

/**
 * A generate job (model × scenario): its accepted tasks (at most one per strategy), every rejection
 * on the way, how many generations it took and what the model calls cost.
 */
export const generateResultSchema = usageSchema.extend({
  mode: z.literal('generate'),
  model: z.string(),
  slot: z.number().int().nonnegative(),
  scenario: scenarioSchema,
  /** accepted: ≥ 1 task; rejected: every generation turned down; budget_exhausted; dead_lettered. */
  status: z.enum(['accepted', 'rejected', 'budget_exhausted', 'dead_lettered']),
  generations: z.number().int().nonnegative(),
  tasks: z.array(taskSummarySchema).default([]),
  rejections: z.array(rejectionSchema),
  reason: z.string().optional(),
  message: z.string().optional(),
  deadLetter: deadLetterSchema.optional(),
});
export type GenerateResult = z.infer<typeof generateResultSchema>;

const runOutcomeSchema = z.object({ verdict: z.string(), failing: z.array(z.string()), passed: z.number().int() });

/** A validate job: one saved task re-run. `ok` when the clean module passes and the buggy one fails exactly its FAIL_TO_PASS. */
export const validateResultSchema = z.object({
  mode: z.literal('validate'),
  instanceId: z.string(),
  line: z.number().int().positive(),
  ok: z.boolean(),
  clean: runOutcomeSchema.optional(),
  buggy: runOutcomeSchema.optional(),
  expectedFailToPass: z.array(z.string()),
  problems: z.array(z.string()),
  deadLetter: deadLetterSchema.optional(),
});
export type ValidateResult = z.infer<typeof validateResultSchema>;

export const synthResultSchema = z.discriminatedUnion('mode', [generateResultSchema, validateResultSchema]);
export type SynthResult = z.infer<typeof synthResultSchema>;

const generateIdentity = usageSchema.extend({
  model: z.string(),
  slot: z.number().int().nonnegative(),
  scenario: scenarioSchema,
  gen: z.number().int().positive(),
  rejections: z.array(rejectionSchema),
});
const validateIdentity = z.object({ instanceId: z.string(), line: z.number().int().positive() });

/** A dead-lettered job still ends with a result: what it had done, never an accepted task. */
export function synthDeadLettered(info: DeadLetterInfo): SynthResult {
  const deadLetter = { stage: info.stage, type: info.type, code: info.code, message: info.message.slice(0, 500) };
  const v = validateIdentity.safeParse(info.payload);
  if (info.type.endsWith('.validate') || v.success) {
    return {
      mode: 'validate',
      ...(v.success ? v.data : { instanceId: info.jobId, line: 1 }),
      ok: false,
      expectedFailToPass: [],
      problems: [`dead-lettered: ${info.code}`],
      deadLetter,
    };
  }
  const g = generateIdentity.safeParse(info.payload);
  const [model = 'unknown', slot = '0'] = info.jobId.split('/');
  return {
    mode: 'generate',
    ...(g.success
      ? {
          model: g.data.model,
          slot: g.data.slot,
          scenario: g.data.scenario,
          generations: g.data.gen,
          rejections: g.data.rejections,
          promptTokens: g.data.promptTokens,
          completionTokens: g.data.completionTokens,
          costUsd: g.data.costUsd,
        }
      : {
          model,
          slot: Number(slot) || 0,
          scenario: { id: 'unknown', domain: 'unknown', topic: 'unknown', subtopic: 'unknown' },
          generations: 0,
          rejections: [],
          promptTokens: 0,
          completionTokens: 0,
          costUsd: 0,
        }),
    status: 'dead_lettered',
    tasks: [],
    reason: info.code,
    message: info.message.slice(0, 500),
    deadLetter,
  };
}
