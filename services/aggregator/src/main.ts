import { z } from 'zod';
import { Counter } from 'prom-client';
import { RunCounters } from '@evalfleet/shared/runs';
import { runService } from '@evalfleet/shared/service';
import { echoReporter } from './echo-reporter.js';
import { handleFinalize, handleResult, type AggregatorDeps } from './handle-result.js';
import { solveReporter } from './solve-reporter.js';

/** The aggregator: each job's terminal result, counted once; the run's reports when it completes. */
export function startAggregator(opts: Parameters<typeof runService>[1] = {}) {
  return runService(
    {
      name: 'aggregator',
      configShape: { AGGREGATOR_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16) },
      setup: ({ config, store, redis, bus, logger, metrics }) => {
        const results = new Counter({
          name: 'evalfleet_results_total',
          help: 'Terminal job results counted (once per job), by kind and outcome.',
          labelNames: ['kind', 'outcome'] as const,
          registers: [metrics.registry],
        });
        const runs = new Counter({
          name: 'evalfleet_runs_completed_total',
          help: 'Runs completed (reports written), by kind.',
          labelNames: ['kind'] as const,
          registers: [metrics.registry],
        });
        const deps: AggregatorDeps = {
          bus,
          store,
          counters: new RunCounters(redis),
          reporters: { echo: echoReporter, solve: solveReporter },
          logger,
          onCounted: (kind, outcome) => results.inc({ kind, outcome }),
          onCompleted: (kind) => runs.inc({ kind }),
        };
        return Promise.resolve({
          consumers: [
            {
              stage: 'aggregate' as const,
              concurrency: config.AGGREGATOR_CONCURRENCY,
              handler: (env) => (env.type === 'run.finalize' ? handleFinalize(env, deps) : handleResult(env, deps)),
            },
          ],
        });
      },
    },
    opts,
  );
}
