import { z } from 'zod';
import { Histogram } from 'prom-client';
import { runService } from '@evalfleet/shared/service';
import { ProblemCache } from '@evalfleet/shared/solve';
import { handleEvaluate, type EvaluatorDeps } from './handle-evaluate.js';
import { openSandbox } from './open-sandbox.js';

/** The evaluator: runs each candidate against its tests in a hardened sandbox. */
export function startEvaluator(opts: Parameters<typeof runService>[1] = {}) {
  return runService(
    {
      name: 'evaluator',
      configShape: {
        EVALUATOR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
        SANDBOX: z.enum(['auto', 'docker', 'process']).default('auto'),
        EVALFLEET_SANDBOX_IMAGE: z.string().optional(),
        DOCKER_SOCKET: z.string().default('/var/run/docker.sock'),
        /** Interpreter (with pytest) for the process sandbox fallback. */
        EVALUATOR_PYTHON: z.string().default('python3'),
      },
      setup: async ({ config, store, bus, logger, metrics }) => {
        const sandbox = await openSandbox({
          mode: config.SANDBOX,
          image: config.EVALFLEET_SANDBOX_IMAGE,
          socketPath: config.DOCKER_SOCKET,
          concurrency: config.EVALUATOR_CONCURRENCY,
          logger,
          python: config.EVALUATOR_PYTHON,
        });
        const verdicts = new Histogram({
          name: 'evalfleet_sandbox_duration_seconds',
          help: 'Sandbox evaluation time by verdict and sandbox kind.',
          labelNames: ['verdict', 'sandbox'] as const,
          buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
          registers: [metrics.registry],
        });
        const kind = sandbox.describe().startsWith('docker') ? 'docker' : 'process';
        const deps: EvaluatorDeps = {
          bus,
          store,
          sandbox,
          logger,
          problems: new ProblemCache(store),
          onVerdict: (verdict, seconds) => verdicts.observe({ verdict, sandbox: kind }, seconds),
        };
        return {
          consumers: [
            {
              stage: 'evaluate' as const,
              concurrency: config.EVALUATOR_CONCURRENCY,
              handler: (e) => handleEvaluate(e, deps),
            },
          ],
          close: () => sandbox.close(),
        };
      },
    },
    opts,
  );
}
