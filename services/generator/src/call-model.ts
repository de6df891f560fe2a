import { EvalfleetError, PermanentError } from '@evalfleet/shared/errors';
import {
  costUsd,
  estimatePromptTokens,
  getModel,
  type ChatMessage,
  type LlmClient,
  type LlmTrace,
  type Registry,
} from '@evalfleet/shared/llm';
import type { RunBudget } from '@evalfleet/shared/budget';
import type { CacheKeyParts, ResponseCache } from './cache.js';
import { cacheKey } from './cache.js';

/** What the generator needs from the fleet-wide rate limiter (see @evalfleet/shared/ratelimit). */
export interface CallLimiter {
  /** Waits for capacity for one request of `tokens`; throws RetryableError when the wait would be too long. */
  acquire(
    model: string,
    tokens: number,
    signal: AbortSignal,
  ): Promise<{ reconcile(actualTokens: number): Promise<void>; cancel(): Promise<void> }>;
  /** Feeds a response's status and rate-limit headers back to the scope (429 pauses the fleet). */
  observe(model: string, status: number | null, headers: Record<string, string>, latencyMs?: number): Promise<void>;
}

export type ModelAnswer = {
  text: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  latencyMs: number;
  cached: boolean;
  trace?: LlmTrace;
};

export type CallOutcome = { kind: 'answer'; answer: ModelAnswer } | { kind: 'budget_exhausted'; spentUsd: number };

export type CallDeps = {
  llm: LlmClient;
  registry: Registry;
  cache?: ResponseCache;
  budget?: RunBudget;
  limiter?: CallLimiter;
  /** Caps in-flight provider calls in this process. */
  cap?: <T>(fn: () => Promise<T>) => Promise<T>;
  onCache?: (model: string, hit: boolean) => void;
};

export type CallRequest = {
  runId: string;
  model: string;
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
  sampleIndex: number;
  attempt: number;
  budgetUsd?: number;
  noCache: boolean;
  signal: AbortSignal;
};

function traceOf(err: unknown): LlmTrace | undefined {
  if (err instanceof EvalfleetError && err.details && typeof err.details['trace'] === 'object') {
    return err.details['trace'] as LlmTrace;
  }
  return undefined;
}

/**
 * One model answer for a job: from the response cache when it has it (no spend, no limiter),
 * else within the run's budget and the fleet's rate limits, reconciling both with what the
 * provider reports. Provider errors are rethrown with their trace attached.
 */
export async function callModel(req: CallRequest, deps: CallDeps): Promise<CallOutcome> {
  const model = getModel(deps.registry, req.model);
  const parts: CacheKeyParts = {
    provider: model.provider,
    remoteModel: model.model,
    messages: req.messages,
    temperature: req.temperature,
    maxTokens: req.maxTokens,
    sampleIndex: req.sampleIndex,
  };
  const key = cacheKey(parts);
  if (deps.cache && !req.noCache) {
    const hit = await deps.cache.get(key);
    deps.onCache?.(req.model, hit !== undefined);
    if (hit) {
      return {
        kind: 'answer',
        answer: {
          text: hit.text,
          promptTokens: hit.usage.promptTokens,
          completionTokens: hit.usage.completionTokens,
          costUsd: 0,
          latencyMs: 0,
          cached: true,
        },
      };
    }
  }

  const promptEstimate = estimatePromptTokens(req.messages);
  const maxTokens = Math.min(req.maxTokens, model.maxOutputTokens);
  if (promptEstimate + maxTokens > (model.tpm ?? Infinity)) {
    throw new PermanentError(
      'request_too_large',
      `request of ~${promptEstimate + maxTokens} tokens exceeds ${req.model}'s ${model.tpm} tokens per minute`,
    );
  }
  const hold =
    req.budgetUsd !== undefined && deps.budget
      ? await deps.budget.reserve(
          req.runId,
          req.budgetUsd,
          costUsd(model, { promptTokens: promptEstimate, completionTokens: maxTokens }),
        )
      : undefined;
  if (req.budgetUsd !== undefined && deps.budget && !hold) {
    return { kind: 'budget_exhausted', spentUsd: await deps.budget.spentUsd(req.runId) };
  }

  let spent = 0;
  try {
    const reservation = deps.limiter
      ? await deps.limiter.acquire(req.model, promptEstimate + maxTokens, req.signal)
      : undefined;
    const run = deps.cap ?? (<T>(fn: () => Promise<T>) => fn());
    try {
      const response = await run(() =>
        deps.llm.complete({
          model: req.model,
          messages: req.messages,
          temperature: req.temperature,
          maxTokens,
          seed: req.sampleIndex,
          signal: req.signal,
          attempt: req.attempt,
        }),
      );
      spent = response.costUsd;
      await reservation?.reconcile(response.usage.totalTokens);
      await deps.limiter?.observe(req.model, response.status, response.headers, response.latencyMs);
      if (deps.cache) {
        await deps.cache.put(key, {
          text: response.text,
          finishReason: response.finishReason,
          usage: response.usage,
          remoteModel: response.remoteModel,
          provider: response.provider,
          costUsd: response.costUsd,
          latencyMs: response.latencyMs,
          createdAt: new Date().toISOString(),
        });
      }
      return {
        kind: 'answer',
        answer: {
          text: response.text,
          promptTokens: response.usage.promptTokens,
          completionTokens: response.usage.completionTokens,
          costUsd: response.costUsd,
          latencyMs: response.latencyMs,
          cached: false,
          trace: response.trace,
        },
      };
    } catch (err) {
      const trace = traceOf(err);
      const code = err instanceof EvalfleetError ? err.code : '';
      // Only a call that never left this process gives its capacity back.
      if (code === 'missing_api_key' || code === 'unknown_model') await reservation?.cancel();
      else if (trace && trace.status !== null) {
        spent = trace.costUsd;
        await reservation?.reconcile(trace.usage?.totalTokens ?? trace.promptTokensEstimate);
        await deps.limiter?.observe(req.model, trace.status, trace.headers, trace.latencyMs);
      }
      throw err;
    }
  } finally {
    if (hold) await hold.settle(spent);
    else if (spent > 0 && deps.budget) await deps.budget.record(req.runId, spent);
  }
}
