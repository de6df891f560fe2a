/** Verdict of one evaluation. Only `infra_error` is worth retrying: everything else is the code's doing. */
export type Verdict = 'passed' | 'failed' | 'error' | 'timeout' | 'oom' | 'infra_error';

export type TestOutcome = {
  name: string;
  outcome: 'passed' | 'failed' | 'error' | 'skipped';
  durationMs?: number;
  message?: string;
};

export type SandboxRunner = 'humaneval' | 'mbpp' | 'pytest' | 'unittest';

export type SandboxJob = {
  jobId: string;
  runner: SandboxRunner;
  /** Program under test (the candidate solution / module). */
  code: string;
  /** humaneval: the `test` source defining check(candidate); mbpp: assert lines; pytest/unittest: test file source. */
  tests: string;
  /** humaneval: check(entry_point). */
  entryPoint?: string;
  /** mbpp: test_setup_code, run before the program. */
  setupCode?: string;
  /** pytest/unittest: file name (without .py) of the module the tests import; default 'solution'. */
  moduleName?: string;
  /** Wall-clock limit for the job. */
  timeoutMs: number;
  memoryMb?: number;
};

export type SandboxResult = {
  verdict: Verdict;
  passed: boolean;
  tests: TestOutcome[];
  stdout: string;
  stderr: string;
  /** True when stdout or stderr exceeded the output cap and was cut (head and tail are kept). */
  truncated: boolean;
  durationMs: number;
  exitCode: number | null;
  signal: string | null;
  /** Why, in a stable word: 'syntax_error', 'exit_before_checks', 'memory_limit', 'wall_clock', ... */
  reason?: string;
  /** Error text worth showing a user (traceback, collection error, infrastructure failure). */
  message?: string;
  sandbox: 'docker' | 'process';
};

export interface Sandbox {
  /** Evaluate one job. Never throws for anything the untrusted code does; infrastructure failures become `infra_error`. */
  run(job: SandboxJob): Promise<SandboxResult>;
  /** Wait for jobs in flight, then release every container or process. Idempotent. */
  close(): Promise<void>;
  describe(): string;
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
