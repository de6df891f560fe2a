import type { Extractor } from '../../extraction/index.js';
import { runKeys } from '../../runs/index.js';
import { defineHandler, need, type Handler, type JobContext, type WorkerHost } from '../../workflow/index.js';
import { solveMessages, type GenerationInfo, type SolveGeneratePayload } from './messages.js';
import type { ProblemCache } from './problems.js';
import { solvePrompt } from './prompt.js';
import type { SolveResult } from './result.js';

type Terminal = 'no_code' | 'syntax_error' | 'budget_exhausted';

function terminal(
  job: SolveGeneratePayload,
  verdict: Terminal,
  reason: string,
  usage: Partial<GenerationInfo> = {},
  message?: string,
): SolveResult {
  return {
    taskId: job.taskId,
    model: job.model,
    sampleIndex: job.sampleIndex,
    category: job.category,
    verdict,
    passed: false,
    reason,
    ...(message ? { message } : {}),
    promptTokens: usage.promptTokens ?? 0,
    completionTokens: usage.completionTokens ?? 0,
    costUsd: usage.costUsd ?? 0,
    latencyMs: usage.latencyMs ?? 0,
    extraction: usage.extraction ?? reason,
    cached: usage.cached ?? false,
  };
}

/**
 * `solve.generate`: one model, one sample of one problem. Transient provider failures are
 * thrown (the broker retries through a delay queue); a malformed answer, prose without
 * code or broken code is a recorded outcome that goes straight to the job's result.
 */
async function generate(
  job: SolveGeneratePayload,
  ctx: JobContext,
  deps: { problems: ProblemCache; extractor: Extractor },
): Promise<void> {
  const models = need(ctx.caps, 'models');
  const problem = await deps.problems.get(job.problem.key);
  const outcome = await models.call({
    runId: ctx.env.runId,
    jobId: ctx.env.jobId,
    attempt: ctx.env.attempt,
    model: job.model,
    messages: solvePrompt(problem),
    temperature: job.temperature,
    maxTokens: job.maxTokens,
    sampleIndex: job.sampleIndex,
    ...(job.budgetUsd !== undefined ? { budgetUsd: job.budgetUsd } : {}),
    noCache: job.noCache,
    signal: ctx.signal,
  });
  if (outcome.kind === 'malformed') {
    ctx.logger.warn({ model: job.model }, 'malformed provider answer recorded as no_code');
    await ctx.emit(
      'no_code',
      terminal(job, 'no_code', 'malformed_response', {
        promptTokens: outcome.promptTokens,
        costUsd: outcome.costUsd,
        latencyMs: outcome.latencyMs,
      }),
    );
    return;
  }
  if (outcome.kind === 'budget_exhausted') {
    ctx.logger.info({ spentUsd: outcome.spentUsd, budgetUsd: job.budgetUsd }, 'run budget reached: no call made');
    await ctx.emit('budget_exhausted', terminal(job, 'budget_exhausted', 'budget_exhausted'));
    return;
  }
  const answer = outcome.answer;
  const extraction = deps.extractor.extract(answer.text, {
    entryPoint: problem.entryPoint,
    prompt: problem.starterCode ?? problem.prompt,
  });
  const generation: GenerationInfo = {
    promptTokens: answer.promptTokens,
    completionTokens: answer.completionTokens,
    costUsd: answer.costUsd,
    latencyMs: answer.latencyMs,
    extraction: extraction.outcome,
    cached: answer.cached,
    attempts: ctx.env.attempt,
  };
  if (extraction.outcome !== 'ok' || extraction.code === undefined) {
    const verdict = extraction.outcome === 'syntax_error' ? 'syntax_error' : 'no_code';
    await ctx.emit(verdict, terminal(job, verdict, extraction.outcome, generation, extraction.message));
    return;
  }
  await ctx.store.put(runKeys.job(ctx.env.runId, ctx.env.jobId, 'code.py'), extraction.code);
  await ctx.emit('ok', {
    taskId: job.taskId,
    model: job.model,
    sampleIndex: job.sampleIndex,
    category: job.category,
    problem: job.problem,
    code: extraction.code,
    mode: extraction.mode,
    timeoutMs: job.timeoutMs,
    ...(job.calibrate ? { calibrate: true } : {}),
    memoryMb: job.memoryMb,
    generation,
    ...(job.judge ? { judge: job.judge } : {}),
  });
}

export function generateHandler(host: WorkerHost, problems: ProblemCache): Handler {
  // Looked up per call: a host without the extractor never routes this type to itself.
  return defineHandler(solveMessages.generate, (job, ctx) =>
    generate(job, ctx, { problems, extractor: need(host.caps, 'extractor') }),
  );
}
