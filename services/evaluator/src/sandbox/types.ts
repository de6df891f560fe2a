// The job and result types are the fleet's (shared/src/workflow/sandbox.ts); these are the evaluator's own.
import type { SandboxJob, SandboxResult } from '@evalfleet/shared/workflow';

export type {
  Integrity,
  SandboxCodeJob,
  SandboxJob,
  SandboxProjectJob,
  SandboxImage,
  SandboxResult,
  SandboxRunner,
  SandboxTestOutcome as TestOutcome,
  SandboxVerdict as Verdict,
} from '@evalfleet/shared/workflow';

export interface Sandbox {
  /** Evaluate one job. Never throws for anything the untrusted code does; infrastructure failures become `infra_error`. */
  run(job: SandboxJob): Promise<SandboxResult>;
  /** Wait for jobs in flight, then release every container or process. Idempotent. */
  close(): Promise<void>;
  describe(): string;
  /** What makes two sandboxes time code alike (kind, image, CPU and memory limits): keys cached calibrations. */
  fingerprint(): string;
  /** Its workers (containers or processes) by state, for the pool gauge. */
  counts(): { idle: number; busy: number; starting: number };
}

/** The subset of a pino logger the sandbox uses. */
export type SandboxLogger = {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
};

/** Per-job limits enforced inside the sandbox (rlimits and caps set by the supervisor). */
export type JobLimits = {
  memoryMb: number;
  outputLimitBytes: number;
  fileSizeLimitBytes: number;
  openFiles: number;
  processesPerJob: number;
};
