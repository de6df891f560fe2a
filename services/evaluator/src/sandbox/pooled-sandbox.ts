import { performance } from 'node:perf_hooks';

import { runRequest, syntheticResult, toResult, validateJob, validateProject } from './protocol.js';
import { SupervisorFailure } from './supervisor-client.js';
import type { JobLimits, Sandbox, SandboxImage, SandboxJob, SandboxLogger, SandboxResult } from './types.js';
import { PoolClosedError, type WorkerPool } from './worker-pool.js';

export type PooledSandboxParts = {
  kind: SandboxResult['sandbox'];
  pool: WorkerPool;
  limits: JobLimits;
  /** Added to a job's timeout before the TypeScript side gives up on the supervisor and recycles it. */
  backstopGraceMs: number;
  /** Recycle a worker after this many jobs even when nothing went wrong. */
  maxJobsPerWorker: number;
  description: string;
  fingerprint: string;
  /** The image every result names (Docker sandbox). */
  image?: SandboxImage;
  logger: SandboxLogger;
  /** Extra clean-up after the pool is closed (temporary directories). */
  onClose?: () => Promise<void>;
};

type Attempt = { kind: 'result'; result: SandboxResult } | { kind: 'stale' };

/** The Sandbox both implementations share: validation, the pool, the backstop and result mapping. */
export function createPooledSandbox(parts: PooledSandboxParts): Sandbox {
  const { kind, pool, limits, logger } = parts;
  let sequence = 0;
  let closing: Promise<void> | undefined;

  async function attempt(job: SandboxJob, started: number): Promise<Attempt> {
    return pool.use<Attempt>(async (worker) => {
      // A worker that died while idle has not seen this job: replace it and try again.
      if (worker.client.broken) return { value: { kind: 'stale' }, recycle: true, reason: 'stale' };
      const request = runRequest(`${job.jobId}#${++sequence}`, job, limits);
      try {
        const reply = await worker.client.run(request, job.timeoutMs + parts.backstopGraceMs);
        worker.jobsRun++;
        if (reply.anomaly !== undefined) {
          logger.warn(
            { jobId: job.jobId, worker: worker.label, anomaly: reply.anomaly },
            'sandbox worker recycled after a job',
          );
        }
        const recycle = reply.recycle || worker.jobsRun >= parts.maxJobsPerWorker;
        const reason = reply.recycle ? (reply.verdict === 'infra_error' ? 'infra_error' : 'requested') : 'max_jobs';
        const result = toResult(reply, kind);
        if (parts.image) result.image = parts.image;
        return { value: { kind: 'result', result }, recycle, reason };
      } catch (err) {
        const elapsed = performance.now() - started;
        const failure = err instanceof SupervisorFailure ? err : new SupervisorFailure('lost', String(err));
        logger.warn(
          { jobId: job.jobId, worker: worker.label, code: failure.code, err: failure.message },
          'sandbox worker failed',
        );
        const result =
          failure.code === 'backstop_timeout'
            ? syntheticResult(kind, 'timeout', 'backstop', elapsed, failure.message)
            : syntheticResult(kind, 'infra_error', `supervisor_${failure.code}`, elapsed, failure.message);
        return {
          value: { kind: 'result', result },
          recycle: true,
          reason: failure.code === 'backstop_timeout' ? 'backstop' : 'crashed',
        };
      }
    });
  }

  return {
    async run(job: SandboxJob): Promise<SandboxResult> {
      const started = performance.now();
      const invalid = validateJob(job);
      if (invalid !== undefined) return syntheticResult(kind, 'error', 'invalid_job', 0, invalid);
      const badProject = validateProject(job);
      if (badProject !== undefined) return syntheticResult(kind, 'failed', 'invalid_project', 0, badProject);
      try {
        for (let tries = 0; tries < 3; tries++) {
          const outcome = await attempt(job, started);
          if (outcome.kind === 'result') return outcome.result;
        }
        return syntheticResult(
          kind,
          'infra_error',
          'sandbox_unavailable',
          performance.now() - started,
          'workers keep dying',
        );
      } catch (err) {
        const reason = err instanceof PoolClosedError ? 'closed' : 'sandbox_unavailable';
        return syntheticResult(
          kind,
          'infra_error',
          reason,
          performance.now() - started,
          err instanceof Error ? err.message : String(err),
        );
      }
    },
    close(): Promise<void> {
      closing ??= (async () => {
        const results = await Promise.allSettled([pool.close()]);
        if (parts.onClose) results.push(...(await Promise.allSettled([parts.onClose()])));
        for (const r of results) {
          if (r.status === 'rejected') logger.error({ err: String(r.reason) }, 'sandbox close step failed');
        }
      })();
      return closing;
    },
    describe(): string {
      return parts.description;
    },
    counts() {
      return pool.counts();
    },
    fingerprint(): string {
      return parts.fingerprint;
    },
  };
}
