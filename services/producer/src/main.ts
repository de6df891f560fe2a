import { z } from 'zod';
import { Counter } from 'prom-client';
import { RunCounters } from '@evalfleet/shared/runs';
import { loadRegistryFile, runService } from '@evalfleet/shared/service';
import { expandEcho } from './echo.js';
import { handleRunRequested } from './handle-run-requested.js';
import { makeSolveExpander } from './solve.js';
import type { Expander } from './expand.js';

/** The producer: `run.requested` → the run's jobs. */
export function startProducer(opts: Parameters<typeof runService>[1] = {}) {
  return runService(
    {
      name: 'producer',
      configShape: { PRODUCER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2) },
      setup: ({ config, store, redis, bus, logger, metrics }) => {
        const published = new Counter({
          name: 'evalfleet_jobs_published_total',
          help: 'Jobs the producer published, by kind.',
          labelNames: ['kind'] as const,
          registers: [metrics.registry],
        });
        const knownModels = () =>
          new Set(
            Object.keys(
              loadRegistryFile({ path: config.EVALFLEET_MODELS, providerUrls: config.EVALFLEET_PROVIDER_URLS }).models,
            ),
          );
        const deps = {
          bus,
          store,
          counters: new RunCounters(redis),
          logger,
          expanders: {
            echo: expandEcho as Expander,
            solve: makeSolveExpander({ store, knownModels }) as Expander,
          },
          onPublished: (kind: string) => published.inc({ kind }),
        };
        return Promise.resolve({
          consumers: [
            {
              stage: 'produce' as const,
              concurrency: config.PRODUCER_CONCURRENCY,
              handler: (env) => handleRunRequested(env, deps),
            },
          ],
        });
      },
    },
    opts,
  );
}
