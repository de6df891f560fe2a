import { z } from 'zod';
import type { MessageHandler } from '@evalfleet/shared/broker';
import { PermanentError } from '@evalfleet/shared/errors';
import { platformStages } from '@evalfleet/shared/messages';
import { RunCounters } from '@evalfleet/shared/runs';
import { runService } from '@evalfleet/shared/service';
import { PlatformTypes } from '@evalfleet/shared/workflow';
import { deadLetterToEnvelope } from './dead-letter-feed.js';
import { handleDeadLettered, handleFinalize, handleResult, type AggregatorDeps } from './handle-result.js';

/** The aggregator: each job's terminal result, counted once; the run's reports (its kind's) when it completes. */
export function startAggregator(opts: Parameters<typeof runService>[1] = {}) {
  return runService(
    {
      name: 'aggregator',
      configShape: { AGGREGATOR_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16) },
      setup: async ({ config, store, redis, bus, logger, metrics, registry, broker }) => {
        const forget = (run: string) => {
          for (const kind of registry.names()) {
            metrics.runJobs.remove({ run, kind, state: 'expected' });
            metrics.runJobs.remove({ run, kind, state: 'done' });
          }
        };
        // Every aggregator instance drops a completed run's progress, whichever one completed it.
        const completions = await broker.subscribeEvents({
          events: [PlatformTypes.runCompleted],
          handler: (e) => forget(e.runId),
        });
        const deps: AggregatorDeps = {
          registry,
          bus,
          store,
          counters: new RunCounters(redis),
          logger,
          onCounted: (kind, outcome) => metrics.results.inc({ kind, outcome }),
          onCompleted: (kind, status) => metrics.runsCompleted.inc({ kind, status }),
          onDeadLettered: (kind, stage, code) => metrics.deadLettered.inc({ kind, stage, code }),
          onProgress: (run, kind, done, total) => {
            metrics.runJobs.set({ run, kind, state: 'expected' }, total);
            metrics.runJobs.set({ run, kind, state: 'done' }, done);
          },
        };
        const handlers = new Map<string, (env: Parameters<MessageHandler>[0]) => Promise<void>>([
          [PlatformTypes.jobResult, (env) => handleResult(env, deps)],
          [PlatformTypes.runFinalize, (env) => handleFinalize(env, deps)],
          [PlatformTypes.jobDeadLettered, (env) => handleDeadLettered(env, deps)],
        ]);
        const handler: MessageHandler = async (env) => {
          const h = handlers.get(env.type);
          if (!h) throw new PermanentError('no_handler', `the aggregator does not take ${env.type}`);
          await h(env);
        };
        return {
          close: () => completions.close(),
          consumers: [
            { stage: platformStages.aggregate, concurrency: config.AGGREGATOR_CONCURRENCY, handler },
            {
              // Copies of every dead letter: each becomes its job's result. Retries go through the
              // aggregate stage; a copy this handler cannot take is dropped (the DLQ keeps the original).
              stage: platformStages.aggregate,
              queue: broker.names.deadLetterFeed,
              concurrency: Math.min(4, config.AGGREGATOR_CONCURRENCY),
              handler,
              decode: (content, headers) => deadLetterToEnvelope(content, headers, registry.catalog),
              onPermanent: 'drop',
            },
          ],
        };
      },
    },
    opts,
  );
}
