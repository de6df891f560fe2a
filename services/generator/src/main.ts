import { z } from 'zod';
import { createExtractor } from '@evalfleet/shared/extraction';
import { createLlmClient } from '@evalfleet/shared/llm';
import { loadRegistryFile, runService } from '@evalfleet/shared/service';
import { ProblemCache } from '@evalfleet/shared/solve';
import { RunBudget } from '@evalfleet/shared/budget';
import { envBoolean } from '@evalfleet/shared/config';
import { ResponseCache } from './cache.js';
import { createConcurrencyCap, createFleetLimiter, limiterForModels } from '@evalfleet/shared/ratelimit';
import { handleGenerate, type GeneratorDeps } from './handle-generate.js';
import { createGeneratorMetrics } from './metrics.js';

/** The generator: asks a model for a solution, extracts the code, records the trace. */
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
      setup: async ({ config, env, store, redis, bus, logger, metrics }) => {
        const registry = loadRegistryFile({
          path: config.EVALFLEET_MODELS,
          providerUrls: config.EVALFLEET_PROVIDER_URLS,
        });
        const genMetrics = createGeneratorMetrics(metrics);
        const cap = createConcurrencyCap(config.GENERATOR_MAX_INFLIGHT_CALLS);
        const fleetLimiter = config.RATE_LIMITS
          ? createFleetLimiter({ redis, periodMs: config.RATE_LIMIT_PERIOD_MS, metrics: metrics.registry, logger })
          : undefined;
        const deps: GeneratorDeps = {
          bus,
          store,
          registry,
          llm: createLlmClient({ registry, env, timeoutMs: config.LLM_TIMEOUT_MS }),
          extractor: await createExtractor(),
          logger,
          metrics: genMetrics,
          problems: new ProblemCache(store),
          budget: new RunBudget(redis),
          cap: (fn) => cap.run(fn),
          onCache: (model, hit) => genMetrics.cache.inc({ model, result: hit ? 'hit' : 'miss' }),
          ...(config.RESPONSE_CACHE ? { cache: new ResponseCache(store) } : {}),
          ...(fleetLimiter
            ? { limiter: limiterForModels(fleetLimiter, registry, { maxWaitMs: config.RATE_LIMIT_MAX_WAIT_MS }) }
            : {}),
        };
        return {
          consumers: [
            {
              stage: 'generate' as const,
              concurrency: config.GENERATOR_CONCURRENCY,
              handler: (e, ctx) => handleGenerate(e, deps, ctx.signal),
            },
          ],
        };
      },
    },
    opts,
  );
}
