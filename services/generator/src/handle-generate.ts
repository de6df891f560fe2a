import type { Logger } from '@evalfleet/shared/logger';
import { EvalfleetError, PermanentError } from '@evalfleet/shared/errors';
import { makeEnvelope, nextEnvelope, nextStage, type Envelope } from '@evalfleet/shared/messages';
import { runKeys } from '@evalfleet/shared/runs';
import type { Bus } from '@evalfleet/shared/service';
import {
  solveGeneratePayloadSchema,
  solvePrompt,
  type GenerationInfo,
  type ProblemCache,
} from '@evalfleet/shared/solve';
import type { LlmTrace } from '@evalfleet/shared/llm';
import { callModel, type CallDeps } from './call-model.js';
import type { ArtifactStore } from '@evalfleet/shared/storage';
import type { Extractor } from '@evalfleet/shared/extraction';
import type { GeneratorMetrics } from './metrics.js';

export type GeneratorDeps = CallDeps & {
  bus: Bus;
  store: ArtifactStore;
  extractor: Extractor;
  logger: Logger;
  metrics?: GeneratorMetrics;
  problems: ProblemCache;
};

function traceOf(err: unknown): LlmTrace | undefined {
  if (err instanceof EvalfleetError && err.details && typeof err.details['trace'] === 'object') {
    return err.details['trace'] as LlmTrace;
  }
  return undefined;
}

/**
 * `solve.generate`: one model, one sample of one problem. Transient provider failures are
 * thrown (the broker retries through a delay queue); a malformed answer, prose without
 * code or broken code is a recorded outcome that goes straight to the aggregator.
 */
export async function handleGenerate(
  env: Envelope,
  deps: GeneratorDeps,
  signal: AbortSignal = new AbortController().signal,
): Promise<void> {
  const job = solveGeneratePayloadSchema.parse(env.payload);
  const problem = await deps.problems.get(job.problem.key);
  const messages = solvePrompt(problem);
  const log = deps.logger.child({ runId: env.runId, jobId: env.jobId, model: job.model });

  const outcome = await callModel(
    {
      runId: env.runId,
      model: job.model,
      messages,
      temperature: job.temperature,
      maxTokens: job.maxTokens,
      sampleIndex: job.sampleIndex,
      attempt: env.attempt,
      ...(job.budgetUsd !== undefined ? { budgetUsd: job.budgetUsd } : {}),
      noCache: job.noCache,
      signal,
    },
    deps,
  ).catch(async (err: unknown) => {
    const trace = traceOf(err);
    if (trace) await deps.store.put(runKeys.trace(env.runId, env.jobId, env.attempt), JSON.stringify(trace));
    deps.metrics?.observeCall(job.model, trace?.outcome ?? 'error', trace);
    if (err instanceof PermanentError && err.code === 'malformed_response') {
      log.warn({ code: err.code }, 'malformed provider answer recorded as no_code');
      return { kind: 'malformed' as const, trace };
    }
    throw err;
  });
  if (outcome.kind === 'malformed') {
    await publishTerminal(env, deps, job, 'no_code', 'malformed_response', outcome.trace);
    return;
  }
  if (outcome.kind === 'budget_exhausted') {
    log.info({ spentUsd: outcome.spentUsd, budgetUsd: job.budgetUsd }, 'run budget reached: no call made');
    await publishTerminal(env, deps, job, 'budget_exhausted', 'budget_exhausted');
    return;
  }
  const answer = outcome.answer;
  if (answer.trace) {
    await deps.store.put(runKeys.trace(env.runId, env.jobId, env.attempt), JSON.stringify(answer.trace));
    deps.metrics?.observeCall(job.model, 'ok', answer.trace);
  }

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
    attempts: env.attempt,
  };
  deps.metrics?.extractions.inc({ model: job.model, outcome: extraction.outcome });
  if (extraction.outcome !== 'ok' || extraction.code === undefined) {
    await publishTerminal(
      env,
      deps,
      job,
      extraction.outcome === 'syntax_error' ? 'syntax_error' : 'no_code',
      extraction.outcome,
      undefined,
      generation,
      extraction.message,
    );
    return;
  }
  await deps.store.put(runKeys.job(env.runId, env.jobId, 'code.py'), extraction.code);
  const next = nextStage('solve', 'generate', 'ok');
  if (next !== 'evaluate') throw new PermanentError('workflow', `unexpected next stage ${next}`);
  await deps.bus.publish(
    nextEnvelope(env, {
      type: 'solve.evaluate',
      stage: next,
      payload: {
        taskId: job.taskId,
        model: job.model,
        sampleIndex: job.sampleIndex,
        category: job.category,
        problem: job.problem,
        code: extraction.code,
        mode: extraction.mode,
        timeoutMs: job.timeoutMs,
        memoryMb: job.memoryMb,
        generation,
      },
    }),
  );
}

async function publishTerminal(
  env: Envelope,
  deps: GeneratorDeps,
  job: { taskId: string; model: string; sampleIndex: number; category: string },
  verdict: 'no_code' | 'syntax_error' | 'budget_exhausted',
  reason: string,
  trace?: LlmTrace,
  generation?: GenerationInfo,
  message?: string,
): Promise<void> {
  const next = nextStage('solve', 'generate', verdict);
  if (next !== 'aggregate') throw new PermanentError('workflow', `unexpected next stage ${next}`);
  await deps.bus.publish(
    makeEnvelope({
      type: 'job.result',
      runId: env.runId,
      jobId: env.jobId,
      kind: 'solve',
      stage: next,
      traceId: env.traceId,
      payload: {
        kind: 'solve',
        outcome: verdict,
        result: {
          taskId: job.taskId,
          model: job.model,
          sampleIndex: job.sampleIndex,
          category: job.category,
          verdict,
          passed: false,
          reason,
          ...(message ? { message } : {}),
          promptTokens: generation?.promptTokens ?? trace?.usage?.promptTokens ?? 0,
          completionTokens: generation?.completionTokens ?? trace?.usage?.completionTokens ?? 0,
          costUsd: generation?.costUsd ?? trace?.costUsd ?? 0,
          latencyMs: generation?.latencyMs ?? trace?.latencyMs ?? 0,
          extraction: generation?.extraction ?? reason,
          cached: generation?.cached ?? false,
        },
        artifacts: {},
      },
    }),
  );
}
