import type { Redis } from 'ioredis';
import type { Registry as MetricsRegistry } from 'prom-client';
import { RunBudget, type BudgetReservation } from '../budget/index.js';
import { EvalfleetError, PermanentError, RetryableError } from '../errors/index.js';
import type { Logger } from '../logger/index.js';
import { createFleetLimiter, type FleetLimiter, type Reservation } from '../ratelimit/fleet-limiter.js';
import { createLimiterMetrics } from '../metrics/ratelimit.js';
import { limiterForModels, type ModelLimiter } from '../ratelimit/model-limiter.js';
import { runKeys } from '../runs/keys.js';
import type { ArtifactStore } from '../storage/index.js';
import { cacheKey, ResponseCache } from './cache.js';
import type { CallOutcome, CallRequest, ModelAnswer, ModelCaller, ModelCallerOptions } from './call-types.js';
import { createLlmClient } from './client.js';
import { createLocalLimiter } from './local-limiter.js';
import { createLlmMetrics } from '../metrics/llm.js';
import { costUsd, getModel, type ModelConfig, type Registry } from './registry.js';
import { countPromptTokens } from './tokenizer.js';
import { recordFailure, startTrace, traceOfError, withTrace } from './trace.js';
import { LlmErrorCodes, type LlmTrace } from './types.js';

export interface ModelCallerDeps {
  registry: Registry;
  /** Where providers' `api_key_env` names are looked up (the composition root's env). */
  env: Readonly<Record<string, string | undefined>>;
  /** Holds the response cache and the traces. */
  store: ArtifactStore;
  /** Holds run budgets and the fleet-wide rate limits. */
  redis: Redis;
  logger: Logger;
  metricsRegistry: MetricsRegistry;
  options?: ModelCallerOptions;
}

/** Builds the model-calling capability once per process, in the composition root. */
export function createModelCaller(deps: ModelCallerDeps): ModelCaller {
  const options = deps.options ?? {};
  const maxConcurrent = options.maxConcurrent ?? 32;
  const client = createLlmClient({
    registry: deps.registry,
    env: deps.env,
    timeoutMs: options.timeoutMs ?? 120_000,
  });
  const local = createLocalLimiter({ maxConcurrent, minTimeMs: options.minTimeMs ?? 0 });
  const fleet: FleetLimiter | undefined =
    options.rateLimits === false
      ? undefined
      : createFleetLimiter({
          redis: deps.redis,
          periodMs: options.rateLimitPeriodMs ?? 60_000,
          ...(options.rateLimitMarginMs !== undefined ? { marginMs: options.rateLimitMarginMs } : {}),
          metrics: deps.metricsRegistry,
          logger: deps.logger,
        });
  const limiter: ModelLimiter | undefined =
    fleet && limiterForModels(fleet, deps.registry, { maxWaitMs: options.rateLimitMaxWaitMs ?? 30_000 });
  const budget = new RunBudget(deps.redis);
  const cache = options.responseCache === false ? undefined : new ResponseCache(deps.store);
  const metrics = createLlmMetrics(deps.metricsRegistry);
  // The fleet limiter counts 429s when it sees them; without it they would go uncounted.
  const provider429 = fleet ? undefined : createLimiterMetrics(deps.metricsRegistry).provider429;
  const inFlight = new Set<Promise<unknown>>();
  let closing: Promise<void> | undefined;

  async function storeTrace(req: CallRequest, trace: LlmTrace): Promise<string> {
    const key = runKeys.trace(req.runId, req.jobId, req.attempt);
    trace.runId = req.runId;
    trace.jobId = req.jobId;
    await deps.store.put(key, JSON.stringify(trace), { contentType: 'application/json' });
    return key;
  }

  /** Stores the failed attempt's trace (never masking the failure itself) and returns the error to throw. */
  async function failed(req: CallRequest, err: unknown, fallback: () => LlmTrace): Promise<unknown> {
    if (!(err instanceof EvalfleetError)) return err;
    let trace = traceOfError(err);
    if (trace === undefined) {
      trace = fallback();
      recordFailure(trace, err, 0);
      err = withTrace(err, trace);
    }
    await storeTrace(req, trace).catch((storeErr: unknown) =>
      deps.logger.warn(
        { err: storeErr, runId: req.runId, jobId: req.jobId },
        'could not store the trace of a failed call',
      ),
    );
    return err;
  }

  async function fromCache(req: CallRequest, model: ModelConfig, key: string): Promise<ModelAnswer | undefined> {
    if (!cache || req.noCache === true) return undefined;
    const hit = await cache.get(key);
    metrics.cache.inc({ model: model.name, result: hit ? 'hit' : 'miss' });
    if (!hit) return undefined;
    const trace = startTrace(model, traceRequest(req, model), hit.usage.promptTokens);
    Object.assign(trace, {
      cached: true,
      remoteModel: hit.remoteModel,
      responseText: hit.text,
      finishReason: hit.finishReason,
      usage: hit.usage,
    });
    const traceKey = await storeTrace(req, trace);
    return {
      text: hit.text,
      finishReason: hit.finishReason,
      usage: hit.usage,
      costUsd: 0,
      latencyMs: 0,
      cached: true,
      remoteModel: hit.remoteModel,
      provider: hit.provider,
      traceKey,
      trace,
    };
  }

  async function call(req: CallRequest): Promise<CallOutcome> {
    if (closing) throw new RetryableError('shutting_down', 'the model caller is closing');
    const model = getModel(deps.registry, req.model);
    const key = cacheKey({
      provider: model.provider,
      remoteModel: model.model,
      messages: req.messages,
      temperature: req.params.temperature,
      maxTokens: req.params.maxTokens,
      sampleIndex: req.params.sampleIndex,
      responseFormat: req.params.responseFormat,
    });
    const hit = await fromCache(req, model, key);
    if (hit) return { kind: 'answer', answer: hit };

    const promptEstimate = await countPromptTokens(model, req.messages);
    const maxTokens = Math.min(req.params.maxTokens, model.maxOutputTokens);
    const preCallTrace = (): LlmTrace => startTrace(model, { ...traceRequest(req, model), maxTokens }, promptEstimate);
    if (promptEstimate + maxTokens > (model.tpm ?? Infinity)) {
      const err = new PermanentError(
        'request_too_large',
        `request of ~${promptEstimate + maxTokens} tokens exceeds ${req.model}'s ${model.tpm} tokens per minute`,
      );
      throw await failed(req, err, preCallTrace);
    }

    let hold: BudgetReservation | undefined;
    if (req.budgetUsd !== undefined) {
      const worstCase = costUsd(model, { promptTokens: promptEstimate, completionTokens: maxTokens });
      hold = await budget.reserve(req.runId, req.budgetUsd, worstCase);
      if (!hold) return { kind: 'budget_exhausted', spentUsd: await budget.spentUsd(req.runId) };
    }

    let spent = 0;
    try {
      let reservation: Reservation | undefined;
      try {
        reservation = await limiter?.acquire(req.model, promptEstimate + maxTokens, req.signal);
      } catch (err) {
        throw await failed(req, err, preCallTrace);
      }
      try {
        const response = await local.run(
          () =>
            client.complete({
              model: req.model,
              messages: req.messages,
              temperature: req.params.temperature,
              maxTokens,
              seed: req.params.sampleIndex,
              ...(req.params.responseFormat === undefined ? {} : { responseFormat: req.params.responseFormat }),
              ...(req.signal === undefined ? {} : { signal: req.signal }),
              attempt: req.attempt,
            }),
          req.signal,
        );
        spent = response.costUsd;
        metrics.observeCall(response.trace);
        await reservation?.reconcile(response.usage.totalTokens);
        await limiter?.observe(req.model, response.status, response.headers, response.latencyMs);
        await cache?.put(key, {
          text: response.text,
          finishReason: response.finishReason,
          usage: response.usage,
          remoteModel: response.remoteModel,
          provider: response.provider,
          costUsd: response.costUsd,
          latencyMs: response.latencyMs,
          createdAt: new Date().toISOString(),
        });
        const traceKey = await storeTrace(req, response.trace);
        const { text, finishReason, usage, latencyMs, remoteModel, provider, trace } = response;
        const answer: ModelAnswer = {
          text,
          finishReason,
          usage,
          costUsd: spent,
          latencyMs,
          cached: false,
          remoteModel,
          provider,
          traceKey,
          trace,
        };
        return { kind: 'answer', answer };
      } catch (err) {
        const trace = traceOfError(err);
        if (trace) metrics.observeCall(trace);
        await settleFailure(err, trace, reservation, req.model);
        if (trace && trace.status !== null) spent = trace.costUsd;
        throw await failed(req, err, preCallTrace);
      }
    } finally {
      if (hold) await hold.settle(spent);
      else if (spent > 0) await budget.record(req.runId, spent);
      if (req.budgetUsd !== undefined) metrics.runBudget.set({ run: req.runId }, req.budgetUsd);
      if (hold || spent > 0) metrics.runCost.set({ run: req.runId }, await budget.spentUsd(req.runId));
    }
  }

  /** Gives capacity back for calls that never left the process; feeds real answers to the limiter. */
  async function settleFailure(
    err: unknown,
    trace: LlmTrace | undefined,
    reservation: Reservation | undefined,
    model: string,
  ): Promise<void> {
    const code = err instanceof EvalfleetError ? err.code : '';
    const neverSent =
      code === LlmErrorCodes.missingApiKey || (err instanceof EvalfleetError && err.details?.['dispatched'] === false);
    if (neverSent) {
      await reservation?.cancel();
      return;
    }
    if (trace && trace.status !== null) {
      if (trace.status === 429) provider429?.inc({ provider: trace.provider });
      await reservation?.reconcile(trace.usage?.totalTokens ?? trace.promptTokensEstimate);
      await limiter?.observe(model, trace.status, trace.headers, trace.latencyMs);
    }
  }

  return {
    call(req) {
      const running = call(req);
      inFlight.add(running);
      const forget = (): void => {
        inFlight.delete(running);
      };
      void running.then(forget, forget);
      return running;
    },
    forgetRun(runId) {
      metrics.forgetRun(runId);
    },
    close() {
      closing ??= (async () => {
        await Promise.allSettled([...inFlight]);
        // Every step runs even if one fails; the first failure is reported after all of them.
        const steps = await Promise.allSettled([local.stop(), fleet?.close(), client.close()]);
        const failure = steps.find((s): s is PromiseRejectedResult => s.status === 'rejected');
        if (failure) throw failure.reason;
      })();
      return closing;
    },
  };
}

function traceRequest(req: CallRequest, model: ModelConfig) {
  return {
    model: model.name,
    messages: req.messages,
    temperature: req.params.temperature,
    maxTokens: Math.min(req.params.maxTokens, model.maxOutputTokens),
    seed: req.params.sampleIndex,
    attempt: req.attempt,
    ...(req.params.responseFormat === undefined ? {} : { responseFormat: req.params.responseFormat }),
  };
}
