// The sandbox's contract, kind-agnostic: a program and its tests in a format the runtime knows go
// in, a verdict comes out. Kinds build jobs (`ctx.caps.sandbox.run`); the evaluator implements it.
import type { SandboxEvalPlusJob } from './sandbox-evalplus.js';
import type { SandboxMutantsJob } from './sandbox-mutants.js';

/** Verdict of one evaluation. Only `infra_error` is worth retrying: everything else is the code's doing. */
export type SandboxVerdict = 'passed' | 'failed' | 'error' | 'timeout' | 'oom' | 'infra_error';

export type SandboxTestOutcome = {
  name: string;
  outcome: 'passed' | 'failed' | 'error' | 'skipped';
  durationMs?: number;
  message?: string;
};

/** Fields every job has, whatever its runner. */
export type SandboxJobBase = {
  jobId: string;
  /** Wall-clock limit for the whole job (loading the program and every check), enforced by the checker. */
  timeoutMs: number;
  /** Limit for any one call from the checker into the candidate; default (and at most) `timeoutMs`. */
  callTimeoutMs?: number;
  memoryMb?: number;
};

/** One program and its tests in one of the single-file formats. */
export type SandboxCodeJob = SandboxJobBase & {
  runner: 'humaneval' | 'mbpp' | 'pytest' | 'unittest';
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
};

/**
 * A multi-file project (modules, packages, data files, tests) run by pytest or unittest from the project's
 * root, which is the working directory and on `sys.path`. One test outcome per test: pytest's node id
 * (`tests/test_x.py::TestA::test_b`) or unittest's id (`tests.test_x.TestA.test_b`). Paths are relative
 * POSIX paths without `.`/`..` segments (see `PROJECT_LIMITS`); a project that breaks the rules gets
 * verdict `failed`, reason `invalid_project`, without running.
 */
export type SandboxProjectJob = SandboxJobBase & {
  runner: 'project';
  /** Relative path → file content (UTF-8 text). */
  files: Record<string, string>;
  /** Default 'pytest'. */
  testFramework?: 'pytest' | 'unittest';
  /** Which files are tests (paths in `files`); default: pytest's own discovery / `unittest discover`. */
  testFiles?: string[];
  /** Tests to run: pytest node ids (`path::Class::test`) or unittest ids (`module.Class.test`); default all. */
  select?: string[];
};

export type SandboxJob = SandboxCodeJob | SandboxProjectJob | SandboxMutantsJob | SandboxEvalPlusJob;

export type SandboxRunner = SandboxJob['runner'];

/** Bounds of a project job (checked by the evaluator and again inside the sandbox). */
export const PROJECT_LIMITS = {
  files: 2000,
  fileBytes: 1024 * 1024,
  totalBytes: 8 * 1024 * 1024,
  pathChars: 1024,
  depth: 32,
  selectItems: 2000,
} as const;

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
  /** The runner's own results, as its checker reported them (`evalplus`: `EvalPlusCheckData` or `EvalPlusReferenceData`). */
  data?: Record<string, unknown>;
  /** The image the job ran in (Docker sandbox): its tag and the sha256 of its manifest (/opt/evalfleet/image.json). */
  image?: SandboxImage;
};

/** What a sandbox image is: its tag, and what scripts/sandbox-image recorded about its contents (labels). */
export type SandboxImage = { tag: string; manifestSha256?: string; python?: string; packages?: string };

/** A backslash or a control character (U+0000-U+001F, U+007F). */
function hasBadChars(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return false;
}

function pathProblem(path: string): string | undefined {
  if (path === '') return 'a path must not be empty';
  if (path.length > PROJECT_LIMITS.pathChars) return `path longer than ${PROJECT_LIMITS.pathChars} characters`;
  if (hasBadChars(path)) return `path with a backslash or control character: ${JSON.stringify(path)}`;
  if (path.startsWith('/')) return `absolute path: ${JSON.stringify(path)}`;
  const parts = path.split('/');
  if (parts.length > PROJECT_LIMITS.depth) return `path deeper than ${PROJECT_LIMITS.depth}: ${JSON.stringify(path)}`;
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') {
      return `path with an empty, '.' or '..' segment: ${JSON.stringify(path)}`;
    }
    if (Buffer.byteLength(part) > 255) return `path segment longer than 255 bytes: ${JSON.stringify(path)}`;
  }
  if (parts[0]!.startsWith('efsbx_')) return `names starting with efsbx_ are the sandbox's: ${JSON.stringify(path)}`;
  return undefined;
}

/**
 * Why a project job cannot run (the same rules the sandbox applies again inside), or undefined. A kind that
 * builds project jobs from untrusted input may call it first; the sandbox answers such a job with verdict
 * `failed`, reason `invalid_project`.
 */
export function projectProblem(
  job: Pick<SandboxProjectJob, 'files' | 'testFramework' | 'testFiles' | 'select'>,
): string | undefined {
  const { files } = job;
  if (typeof files !== 'object' || files === null || Array.isArray(files)) return 'files must be an object';
  const paths = Object.keys(files);
  if (paths.length === 0) return 'a project needs at least one file';
  if (paths.length > PROJECT_LIMITS.files) return `more than ${PROJECT_LIMITS.files} files`;
  let total = 0;
  const directories = new Set<string>();
  for (const path of paths) {
    const problem = pathProblem(path);
    if (problem !== undefined) return problem;
    const content = files[path];
    if (typeof content !== 'string') return `content of ${JSON.stringify(path)} must be a string`;
    const size = Buffer.byteLength(content);
    if (size > PROJECT_LIMITS.fileBytes)
      return `${JSON.stringify(path)} is larger than ${PROJECT_LIMITS.fileBytes} bytes`;
    total += size;
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) directories.add(parts.slice(0, i).join('/'));
  }
  if (total > PROJECT_LIMITS.totalBytes) return `files total more than ${PROJECT_LIMITS.totalBytes} bytes`;
  const clash = paths.find((path) => directories.has(path));
  if (clash !== undefined) return `${JSON.stringify(clash)} is both a file and a directory`;
  const framework = job.testFramework ?? 'pytest';
  if (framework !== 'pytest' && framework !== 'unittest') return 'testFramework must be pytest or unittest';
  if (job.testFiles !== undefined) {
    if (!Array.isArray(job.testFiles)) return 'testFiles must be a list of paths in files';
    for (const path of job.testFiles) {
      if (typeof path !== 'string' || !Object.hasOwn(files, path) || !path.endsWith('.py')) {
        return `testFiles must name .py files of the project: ${JSON.stringify(path)}`;
      }
      if (
        framework === 'unittest' &&
        !path
          .slice(0, -3)
          .split('/')
          .every((p) => IDENTIFIER.test(p))
      ) {
        return `unittest test file ${JSON.stringify(path)} is not an importable module path`;
      }
    }
  }
  if (job.select !== undefined) {
    if (!Array.isArray(job.select) || job.select.length > PROJECT_LIMITS.selectItems) {
      return `select must be a list of at most ${PROJECT_LIMITS.selectItems} test ids`;
    }
    for (const id of job.select) {
      if (typeof id !== 'string' || id === '' || id.length > 1000 || hasBadChars(id)) {
        return `select entries must be test ids without control characters: ${JSON.stringify(id)}`;
      }
      if (id.startsWith('-')) return `select entries must not start with '-': ${JSON.stringify(id)}`;
    }
  }
  return undefined;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
