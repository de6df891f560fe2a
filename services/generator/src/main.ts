import { z } from 'zod';
import { createExtractor } from '@evalfleet/shared/extraction';
import { createLlmClient } from '@evalfleet/shared/llm';
import { loadRegistryFile, runService } from '@evalfleet/shared/service';
import type { Problem } from '@evalfleet/shared/datasets';
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
      },
      setup: async ({ config, env, store, bus, logger, metrics }) => {
        const registry = loadRegistryFile({ path: config.EVALFLEET_MODELS, providerUrls: config.EVALFLEET_PROVIDER_URLS });
        const deps: GeneratorDeps = {
          bus,
          store,
          llm: createLlmClient({ registry, env, timeoutMs: config.LLM_TIMEOUT_MS }),
          extractor: await createExtractor(),
          logger,
          metrics: createGeneratorMetrics(metrics),
          problems: new Map<string, Problem>(),
        };
        return {
          consumers: [{ stage: 'generate' as const, concurrency: config.GENERATOR_CONCURRENCY, handler: (e) => handleGenerate(e, deps) }],
        };
      },
    },
    opts,
  );
}
