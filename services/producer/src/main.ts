import { z } from 'zod';
import { RedisStringSet } from '@evalfleet/shared/redis';
import { RunCounters } from '@evalfleet/shared/runs';
import { loadRegistryFile, runService } from '@evalfleet/shared/service';
import { platformStages } from '@evalfleet/shared/messages';
import { PermanentError } from '@evalfleet/shared/errors';
import { PlatformTypes } from '@evalfleet/shared/workflow';
import { handleRunRequested, type ProducerDeps } from './handle-run-requested.js';

/** The producer: `run.requested` → the run's jobs, by the kind's expansion. */
export function startProducer(opts: Parameters<typeof runService>[1] = {}) {
  return runService(
    {
      name: 'producer',
      configShape: {
        PRODUCER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
        /** Publish confirms a run's expansion keeps outstanding at once. */
        PRODUCER_PUBLISH_WINDOW: z.coerce.number().int().min(1).max(1024).default(64),
        /**
         * Jobs per message: a run's jobs travel as batch messages of this many (the evaluator answers a batch
         * with one batch of results), which saves the broker, acks and confirms per job; 1 turns it off.
         */
        PRODUCER_BATCH: z.coerce.number().int().min(1).max(256).default(8),
      },
      setup: ({ config, store, redis, bus, logger, metrics, registry, router }) => {
        const knownModels = () =>
          new Set(
            Object.keys(
              loadRegistryFile({ path: config.EVALFLEET_MODELS, providerUrls: config.EVALFLEET_PROVIDER_URLS }).models,
            ),
          );
        const deps: ProducerDeps = {
          registry,
          router,
          bus,
          store,
          counters: new RunCounters(redis),
          logger,
          knownModels,
          // Kinds' sets live under their own prefix; without expiry, they outlive runs.
          sharedSet: (kind, name) => new RedisStringSet(redis, `kind:${kind}:set:${name}`),
          onPublished: (kind) => metrics.jobsPublished.inc({ kind }),
          publishWindow: config.PRODUCER_PUBLISH_WINDOW,
          batchSize: config.PRODUCER_BATCH,
        };
        return Promise.resolve({
          consumers: [
            {
              stage: platformStages.produce,
              concurrency: config.PRODUCER_CONCURRENCY,
              handler: async (env) => {
                if (env.type !== PlatformTypes.runRequested)
                  throw new PermanentError(
                    'no_handler',
                    `the producer takes ${PlatformTypes.runRequested}, not ${env.type}`,
                  );
                await handleRunRequested(env, deps);
              },
            },
          ],
        });
      },
    },
    opts,
  );
}
