import { z } from 'zod';
import { hostStages, runService } from '@evalfleet/shared/service';
import type { SandboxCapability } from '@evalfleet/shared/workflow';
import { openSandbox } from './open-sandbox.js';

/** The evaluator: hosts every stage that needs the sandbox; runs candidates against their tests, hardened. */
export function startEvaluator(opts: Parameters<typeof runService>[1] = {}) {
  return runService(
    {
      name: 'evaluator',
      configShape: {
        /** Sandboxes (containers) evaluating at once. */
        EVALUATOR_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
        /**
         * Messages in flight (prefetch); default twice the sandboxes, so that while one job stores its verdict,
         * publishes its result and acks, the next one already waits for its sandbox instead of for the broker.
         */
        EVALUATOR_PREFETCH: z.coerce.number().int().min(1).max(256).optional(),
        // Fail closed: Docker unless the unisolated process sandbox is asked for by name.
        SANDBOX: z.enum(['docker', 'process']).default('docker'),
        EVALFLEET_SANDBOX_IMAGE: z.string().optional(),
        DOCKER_SOCKET: z.string().default('/var/run/docker.sock'),
        /** Interpreter (with pytest) for the process sandbox fallback. */
        EVALUATOR_PYTHON: z.string().default('python3'),
      },
      setup: async (ctx) => {
        const { config, logger, metrics } = ctx;
        const sandbox = await openSandbox({
          mode: config.SANDBOX,
          image: config.EVALFLEET_SANDBOX_IMAGE,
          socketPath: config.DOCKER_SOCKET,
          concurrency: config.EVALUATOR_CONCURRENCY,
          logger,
          python: config.EVALUATOR_PYTHON,
          onRecycle: (reason) => metrics.sandboxRecycles.inc({ reason }),
        });
        // Every reason exported from the start (at 0), so rates and alerts see a series before the first recycle.
        for (const reason of ['max_jobs', 'crashed', 'infra_error', 'backstop', 'stale', 'requested'] as const)
          metrics.sandboxRecycles.inc({ reason }, 0);
        // The pool's containers by state, sampled (a scrape must not wait on the pool).
        const samplePool = () => {
          const counts = sandbox.counts();
          for (const state of ['idle', 'busy', 'starting'] as const) metrics.sandboxPool.set({ state }, counts[state]);
        };
        samplePool();
        const poolSampler = setInterval(samplePool, 2_000);
        poolSampler.unref();
        const kind = sandbox.describe().startsWith('docker') ? 'docker' : 'process';
        // The kinds' handlers see the sandbox through this capability; its verdicts are timed here.
        const measured: SandboxCapability = {
          describe: () => sandbox.describe(),
          fingerprint: sandbox.fingerprint(),
          async run(job) {
            const started = performance.now();
            const result = await sandbox.run(job);
            metrics.sandboxDuration.observe(
              { verdict: result.verdict, sandbox: kind },
              (performance.now() - started) / 1000,
            );
            return result;
          },
        };
        const consumers = await hostStages(ctx, {
          provides: ['sandbox'],
          caps: { sandbox: measured },
          concurrency: config.EVALUATOR_PREFETCH ?? config.EVALUATOR_CONCURRENCY * 2,
        });
        return {
          consumers,
          close: async () => {
            clearInterval(poolSampler);
            await sandbox.close();
          },
        };
      },
    },
    opts,
  );
}
