import { z } from 'zod';
import { EvalfleetError, PermanentError } from '@evalfleet/shared/errors';
import { createExtractor } from '@evalfleet/shared/extraction';
import { createLlmClient, type LlmTrace } from '@evalfleet/shared/llm';
import { runKeys } from '@evalfleet/shared/runs';
import { hostStages, loadRegistryFile, runService } from '@evalfleet/shared/service';
import { RunBudget } from '@evalfleet/shared/budget';
import { envBoolean } from '@evalfleet/shared/config';
import type { ModelsCapability } from '@evalfleet/shared/workflow';
import { ResponseCache } from './cache.js';
import { createConcurrencyCap, createFleetLimiter, limiterForModels } from '@evalfleet/shared/ratelimit';
import { callModel, type CallDeps } from './call-model.js';
import { createGeneratorMetrics } from './metrics.js';

function traceOf(err: unknown): LlmTrace | undefined {
  if (err instanceof EvalfleetError && err.details && typeof err.details['trace'] === 'object') {
    return err.details['trace'] as LlmTrace;
  }
  return undefined;
}

/** The generator: hosts every stage that needs models (or nothing special) for every kind. */
export function startGenerator(opts: Parameters<typeof runService>[1] = {}) {
  return runService(
    {
      name: 'generator',
      configShape: {
        GENERATOR_CONCURRENCY: z.coerce.number().int().min(1).max(512).default(8),
        LLM_TIMEOUT_MS: z.coerce.number().int().positive().default(120_000),
        /** Provider calls in flight in this process at most (independent of queue prefetch). */
        GENERATOR_MAX_INFLIGHT_CALLS: z.coerce.number().int().min(1).max(1024).default(32),
        RESPONSE_CACHE: envBoolean.default(true),
        /** Fleet-wide rate limits from the registry's rpm/tpm (Redis); off only for experiments. */
        RATE_LIMITS: envBoolean.default(true),
        /** A call waiting longer than this for capacity goes back through a delay queue instead. */
        RATE_LIMIT_MAX_WAIT_MS: z.coerce.number().int().positive().default(30_000),
        /** The period rpm/tpm are counted over (tests shorten it). */
        RATE_LIMIT_PERIOD_MS: z.coerce.number().int().positive().default(60_000),
      },
      setup: async (ctx) => {
        const { config, env, store, redis, logger, metrics } = ctx;
        const registry = loadRegistryFile({
          path: config.EVALFLEET_MODELS,
          providerUrls: config.EVALFLEET_PROVIDER_URLS,
        });
        const genMetrics = createGeneratorMetrics(metrics);
        const cap = createConcurrencyCap(config.GENERATOR_MAX_INFLIGHT_CALLS);
        const fleetLimiter = config.RATE_LIMITS
          ? createFleetLimiter({ redis, periodMs: config.RATE_LIMIT_PERIOD_MS, metrics: metrics.registry, logger })
          : undefined;
        const deps: CallDeps = {
          registry,
          llm: createLlmClient({ registry, env, timeoutMs: config.LLM_TIMEOUT_MS }),
          budget: new RunBudget(redis),
          cap: (fn) => cap.run(fn),
          onCache: (model, hit) => genMetrics.cache.inc({ model, result: hit ? 'hit' : 'miss' }),
          ...(config.RESPONSE_CACHE ? { cache: new ResponseCache(store) } : {}),
          ...(fleetLimiter
            ? { limiter: limiterForModels(fleetLimiter, registry, { maxWaitMs: config.RATE_LIMIT_MAX_WAIT_MS }) }
            : {}),
        };
        const models: ModelsCapability = {
          async call(req) {
            const saveTrace = (trace: LlmTrace) =>
              store.put(runKeys.trace(req.runId, req.jobId, req.attempt), JSON.stringify(trace));
            try {
              const outcome = await callModel(req, deps);
              if (outcome.kind === 'budget_exhausted') return outcome;
              if (outcome.answer.trace) {
                await saveTrace(outcome.answer.trace);
                genMetrics.observeCall(req.model, 'ok', outcome.answer.trace);
              }
              return { kind: 'answer', answer: outcome.answer };
            } catch (err) {
              const trace = traceOf(err);
              if (trace) await saveTrace(trace);
              genMetrics.observeCall(req.model, trace?.outcome ?? 'error', trace);
              if (err instanceof PermanentError && err.code === 'malformed_response') {
                return {
                  kind: 'malformed',
                  message: err.message,
                  promptTokens: trace?.usage?.promptTokens ?? 0,
                  costUsd: trace?.costUsd ?? 0,
                  latencyMs: trace?.latencyMs ?? 0,
                };
              }
              throw err;
            }
          },
        };
        const consumers = await hostStages(ctx, {
          provides: ['models', 'general'],
          caps: { models, extractor: await createExtractor() },
          concurrency: config.GENERATOR_CONCURRENCY,
        });
        return { consumers };
      },
    },
    opts,
  );
}
