import { z } from 'zod';
import type { DeadLetterInfo } from '../../workflow/index.js';
import { turnSummarySchema, usageSchema } from './messages.js';

/** One attempt (bug × model × sample): whether it ended fixed, after how many turns, at what cost. */
export const repairResultSchema = usageSchema.extend({
  bugId: z.string(),
  model: z.string(),
  sampleIndex: z.number().int().nonnegative(),
  category: z.string(),
  fixed: z.boolean(),
  /**
   * fixed / not_fixed (every turn used); not_reproducible: the buggy code already passes, nothing to
   * fix; budget_exhausted: the run's budget stopped it; dead_lettered: it could not be processed.
   */
  verdict: z.enum(['fixed', 'not_fixed', 'not_reproducible', 'budget_exhausted', 'dead_lettered']),
  turns: z.number().int().nonnegative(),
  fixedAtTurn: z.number().int().positive().optional(),
  history: z.array(turnSummarySchema),
  /** Tests still failing at the end, and tests that passed on the buggy code but fail after the patch. */
  failing: z.array(z.string()).default([]),
  regressions: z.array(z.string()).default([]),
  /** `--patches`: the line of the patches file. */
  patchLine: z.number().int().nonnegative().optional(),
  reason: z.string().optional(),
  message: z.string().optional(),
  deadLetter: z.object({ stage: z.string(), type: z.string(), code: z.string(), message: z.string() }).optional(),
});
export type RepairResult = z.infer<typeof repairResultSchema>;

const identity = z.object({
  bugId: z.string(),
  model: z.string(),
  sampleIndex: z.number().int().nonnegative(),
  category: z.string(),
});

export function repairDeadLettered(info: DeadLetterInfo): RepairResult {
  const id = identity.safeParse(info.payload);
  const fallback = (): z.infer<typeof identity> => {
    const [model = 'unknown', bugId = info.jobId, sample = '0'] = info.jobId.split('/');
    return { model, bugId, sampleIndex: Number(sample) || 0, category: 'unknown' };
  };
  return {
    ...(id.success ? id.data : fallback()),
    fixed: false,
    verdict: 'dead_lettered',
    turns: 0,
    history: [],
    failing: [],
    regressions: [],
    promptTokens: 0,
    completionTokens: 0,
    costUsd: 0,
    reason: info.code,
    message: info.message.slice(0, 500),
    deadLetter: { stage: info.stage, type: info.type, code: info.code, message: info.message.slice(0, 500) },
  };
}
