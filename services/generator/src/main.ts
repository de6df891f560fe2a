import { z } from 'zod';
import { PermanentError } from '@evalfleet/shared/errors';
import { createExtractor } from '@evalfleet/shared/extraction';
import { createModelCaller, traceOfError, type ModelCaller } from '@evalfleet/shared/llm';
import { hostStages, loadRegistryFile, runService } from '@evalfleet/shared/service';
import { envBoolean } from '@evalfleet/shared/config';
import { PlatformTypes, type ModelsCapability } from '@evalfleet/shared/workflow';

/** The `models` capability kind handlers see, on the shared model caller (which stores traces and counts calls). */
function modelsCapability(caller: ModelCaller): ModelsCapability {
  return {
    async call(req) {
      try {
        const outcome = await caller.call({
          runId: req.runId,
          jobId: req.jobId,
          attempt: req.attempt,
          model: req.model,
          messages: req.messages,
          params: {
            temperature: req.temperature,
            maxTokens: req.maxTokens,
            sampleIndex: req.sampleIndex,
            ...(req.jsonSchema ? { responseFormat: { type: 'json_schema' as const, ...req.jsonSchema } } : {}),
          },
          ...(req.budgetUsd !== undefined ? { budgetUsd: req.budgetUsd } : {}),
          noCache: req.noCache,
          signal: req.signal,
        });
        if (outcome.kind === 'budget_exhausted') return outcome;
        const { text, usage, costUsd, latencyMs, cached } = outcome.answer;
        const { promptTokens, completionTokens } = usage;
        return { kind: 'answer', answer: { text, promptTokens, completionTokens, costUsd, latencyMs, cached } };
      } catch (err) {
        // A reply that is not a completion is the model's outcome, not a reason to retry.
        if (err instanceof PermanentError && err.code === 'malformed_response') {
          const trace = traceOfError(err);
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
        /** Least time between two provider calls from this process (0: no spacing). */
        GENERATOR_MIN_CALL_SPACING_MS: z.coerce.number().int().min(0).default(0),
        RESPONSE_CACHE: envBoolean.default(true),
        /** Fleet-wide rate limits from the registry's rpm/tpm (Redis); off only for experiments. */
        RATE_LIMITS: envBoolean.default(true),
        /** A call waiting longer than this for capacity goes back through a delay queue instead. */
        RATE_LIMIT_MAX_WAIT_MS: z.coerce.number().int().positive().default(30_000),
        /** The period rpm/tpm are counted over (tests shorten it). */
        RATE_LIMIT_PERIOD_MS: z.coerce.number().int().positive().default(60_000),
        /** Slack each reservation keeps past the period for admission-to-provider delay (default: the limiter's). */
        RATE_LIMIT_MARGIN_MS: z.coerce.number().int().min(0).optional(),
      },
      setup: async (ctx) => {
        const { config, env, store, redis, logger, metrics } = ctx;
        const registry = loadRegistryFile({
          path: config.EVALFLEET_MODELS,
          providerUrls: config.EVALFLEET_PROVIDER_URLS,
        });
        const caller = createModelCaller({
          registry,
          env,
          store,
          redis,
          logger,
          metricsRegistry: metrics.registry,
          options: {
            timeoutMs: config.LLM_TIMEOUT_MS,
            maxConcurrent: config.GENERATOR_MAX_INFLIGHT_CALLS,
            minTimeMs: config.GENERATOR_MIN_CALL_SPACING_MS,
            responseCache: config.RESPONSE_CACHE,
            rateLimits: config.RATE_LIMITS,
            rateLimitMaxWaitMs: config.RATE_LIMIT_MAX_WAIT_MS,
            rateLimitPeriodMs: config.RATE_LIMIT_PERIOD_MS,
            ...(config.RATE_LIMIT_MARGIN_MS !== undefined ? { rateLimitMarginMs: config.RATE_LIMIT_MARGIN_MS } : {}),
          },
        });
        // Spend gauges exist only for runs in progress.
        const completions = await ctx.broker.subscribeEvents({
          events: [PlatformTypes.runCompleted],
          handler: (e) => caller.forgetRun(e.runId),
        });
        const consumers = await hostStages(ctx, {
          provides: ['models', 'general'],
          caps: { models: modelsCapability(caller), extractor: await createExtractor() },
          concurrency: config.GENERATOR_CONCURRENCY,
        });
        return {
          consumers,
          close: async () => {
            await completions.close();
            await caller.close();
          },
        };
      },
    },
    opts,
  );
}
