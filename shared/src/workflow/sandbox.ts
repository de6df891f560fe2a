// The sandbox's contract, kind-agnostic: a program and its tests in a format the runtime knows go
// in, a verdict comes out. Kinds build jobs (`ctx.caps.sandbox.run`); the evaluator implements it.

/** Verdict of one evaluation. Only `infra_error` is worth retrying: everything else is the code's doing. */
export type SandboxVerdict = 'passed' | 'failed' | 'error' | 'timeout' | 'oom' | 'infra_error';

export type SandboxTestOutcome = {
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
  /**
   * humaneval: check(entry_point). mbpp (optional, recommended): the function under test, so that it is the
   * candidate's even when its name is a builtin or a standard-library module (those names are otherwise
   * always the checker's own, so a candidate cannot shadow what the asserts rely on).
   */
  entryPoint?: string;
  /** mbpp: test_setup_code, run after the program and before the asserts (as MBPP's own harness does). */
  setupCode?: string;
  /**
   * humaneval (and mbpp with entryPoint): dataset code the checker runs itself before the tests, normally the
   * HumanEval prompt. Its helpers (`poly`, `encode_cyclic`) are then the checker's own, so a completion that
   * redefines one cannot change what `check` computes; the entry point stays the candidate's.
   */
  trustedCode?: string;
  /** pytest/unittest: file name (without .py) of the module the tests import; default 'solution'. */
  moduleName?: string;
  /** Wall-clock limit for the whole job (loading the program and every check), enforced by the checker. */
  timeoutMs: number;
  /** Limit for any one call from the checker into the candidate; default (and at most) `timeoutMs`. */
  callTimeoutMs?: number;
  memoryMb?: number;
};

/**
 * Who decided the verdict. `checker`: the trusted checker process, on its own objects only. `handle`: the
 * checker, but the outcome rested on a candidate object's own __eq__/__bool__/__hash__ (or ordering,
 * isinstance) answered in the candidate's process. `in-process`: a pytest/unittest suite that had to run
 * inside the candidate's process (mocks, captured output, shared files...), where deliberate tampering with
 * the harness cannot be ruled out.
 */
export type Integrity = 'checker' | 'handle' | 'in-process';

export type SandboxResult = {
  verdict: SandboxVerdict;
  passed: boolean;
  tests: SandboxTestOutcome[];
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
  integrity: Integrity;
};
