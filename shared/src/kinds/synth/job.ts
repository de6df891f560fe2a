import { RESULT, type JobContext, type Loop } from '../../workflow/index.js';
import { z } from 'zod';
import { synthMessages, type Rejection, type SynthJob, type Usage } from './messages.js';
import type { GenerateResult } from './result.js';

/** The kind's steps as `status` shows them (the evaluate stage hosts two). */
export type SynthStep = 'generate' | 'clean' | 'mutate' | 'check' | 'validate';

const cap = z.object({ gen: z.number().int(), retries: z.number().int() });

/** A new generation while the cap carried in the payload allows (`gen` is the next one's number). */
export const nextGeneration: Loop = {
  to: synthMessages.generate.type,
  while: (payload) => {
    const p = cap.safeParse(payload);
    return p.success && p.data.gen <= p.data.retries + 1;
  },
  otherwise: RESULT,
};

export function addUsage(a: Usage, b: Usage): Usage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    costUsd: a.costUsd + b.costUsd,
  };
}

const usageOf = (p: Usage): Usage => ({
  promptTokens: p.promptTokens,
  completionTokens: p.completionTokens,
  costUsd: p.costUsd,
});

/** The job's fields alone (a step's payload without its own refs). */
export function jobOf(p: SynthJob): SynthJob {
  return {
    mode: 'generate',
    model: p.model,
    slot: p.slot,
    scenario: p.scenario,
    strategies: p.strategies,
    retries: p.retries,
    maxCandidates: p.maxCandidates,
    fileEdit: p.fileEdit,
    suppressBuggyCode: p.suppressBuggyCode,
    temperature: p.temperature,
    maxTokens: p.maxTokens,
    timeoutMs: p.timeoutMs,
    memoryMb: p.memoryMb,
    ...(p.budgetUsd !== undefined ? { budgetUsd: p.budgetUsd } : {}),
    noCache: p.noCache,
    gen: p.gen,
    ...(p.feedback !== undefined ? { feedback: p.feedback } : {}),
    rejections: p.rejections,
    ...usageOf(p),
  };
}

/** The job as it ends (its terminal result). */
export function ended(
  p: SynthJob,
  fields: Pick<GenerateResult, 'status' | 'tasks'> & Partial<Pick<GenerateResult, 'reason' | 'message'>>,
): GenerateResult {
  return {
    mode: 'generate',
    model: p.model,
    slot: p.slot,
    scenario: p.scenario,
    generations: p.gen,
    rejections: p.rejections,
    ...usageOf(p),
    ...fields,
  };
}

/**
 * This generation is turned down: one payload that is both the next generation's job (while the cap
 * allows) and the job's result (`rejected`) — a loop edge validates it against both.
 */
export async function rejectGeneration(
  ctx: JobContext,
  p: SynthJob,
  rejection: Rejection,
  step: SynthStep,
): Promise<void> {
  const job = { ...jobOf(p), rejections: [...p.rejections, rejection] };
  const feedback = `${rejection.reason.replace(/_/g, ' ')}${rejection.message ? ` — ${rejection.message}` : ''}`;
  await ctx.emit(
    'rejected',
    { ...ended(job, { status: 'rejected', tasks: [] }), ...job, gen: p.gen + 1, feedback: feedback.slice(0, 1500) },
    { progress: step },
  );
}
