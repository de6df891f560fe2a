import { RetryableError } from '../../errors/index.js';
import type { JobContext, SandboxProjectJob, SandboxResult } from '../../workflow/index.js';

/** The task's files and how its suite runs: the module and its test file at the project's root. */
export type TaskFiles = {
  modulePath: string;
  testPath: string;
  testFramework: 'pytest' | 'unittest';
  testCode: string;
};

export function taskPaths(moduleName: string): { modulePath: string; testPath: string } {
  return { modulePath: `${moduleName}.py`, testPath: `test_${moduleName}.py` };
}

/** The suite against one version of the module, as a project job. */
export function suiteJob(
  jobId: string,
  t: TaskFiles,
  moduleCode: string,
  limits: { timeoutMs: number; memoryMb: number },
): SandboxProjectJob {
  return {
    jobId,
    runner: 'project',
    files: { [t.modulePath]: moduleCode, [t.testPath]: t.testCode },
    testFramework: t.testFramework,
    testFiles: [t.testPath],
    timeoutMs: limits.timeoutMs,
    memoryMb: limits.memoryMb,
  };
}

/** Runs a suite; an infrastructure failure is retried by the broker, never taken for a verdict. */
export async function runSuite(ctx: JobContext, job: SandboxProjectJob): Promise<SandboxResult> {
  const sandbox = ctx.caps.sandbox;
  if (!sandbox) throw new Error('the synth kind runs its suites on the sandbox capability');
  const result = await sandbox.run(job);
  if (result.verdict === 'infra_error')
    throw new RetryableError('sandbox_infra', `sandbox infrastructure failed: ${result.reason ?? 'unknown'}`);
  return result;
}

/** Test id → outcome. */
export function outcomesOf(result: SandboxResult): Map<string, string> {
  return new Map(result.tests.map((t) => [t.name, t.outcome]));
}

/** The tests that did not pass (collection errors included: they are listed as tests in error). */
export function failingTests(result: SandboxResult): string[] {
  return result.tests.filter((t) => t.outcome !== 'passed' && t.outcome !== 'skipped').map((t) => t.name);
}

/**
 * A buggy version against the clean suite (every clean test passed): FAIL_TO_PASS are the clean tests
 * that do not pass any more (missing ones too: the buggy module broke their collection), PASS_TO_PASS
 * the ones that still pass. SWE-smith's rule: a task needs at least one of each.
 */
export function splitTests(cleanTests: readonly string[], buggy: SandboxResult): { f2p: string[]; p2p: string[] } {
  const after = outcomesOf(buggy);
  const f2p: string[] = [];
  const p2p: string[] = [];
  for (const t of cleanTests) (after.get(t) === 'passed' ? p2p : f2p).push(t);
  return { f2p, p2p };
}

/** Head and tail of a long text, with how much was cut between them. */
export function bounded(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.floor(max * 0.25);
  const tail = max - head;
  return `${text.slice(0, head)}\n... [${text.length - max} characters cut] ...\n${text.slice(-tail)}`;
}

export const failingOutputLimit = 6000;

/**
 * What the developer sees when the suite fails: pytest's own report (its FAILURES/ERRORS sections), or
 * for unittest (whose runner output the sandbox keeps per test) the tracebacks in unittest's layout;
 * bounded.
 */
export function failingOutput(result: SandboxResult, limit = failingOutputLimit): string {
  if (/^=+ (FAILURES|ERRORS) =+$/m.test(result.stdout)) return bounded(result.stdout.trimEnd(), limit);
  const failing = result.tests.filter((t) => t.outcome === 'failed' || t.outcome === 'error');
  const rule = (c: string) => c.repeat(70);
  const blocks = failing.map((t) =>
    [rule('='), `${t.outcome === 'error' ? 'ERROR' : 'FAIL'}: ${t.name}`, rule('-'), (t.message ?? '').trimEnd()].join(
      '\n',
    ),
  );
  const failures = failing.filter((t) => t.outcome === 'failed').length;
  const errors = failing.length - failures;
  const counts = [failures ? `failures=${failures}` : '', errors ? `errors=${errors}` : ''].filter(Boolean).join(', ');
  const tail = [rule('-'), `Ran ${result.tests.length} tests`, '', failing.length ? `FAILED (${counts})` : 'OK'];
  const extra = failing.length === 0 ? [result.message ?? '', result.stderr].filter((x) => x.trim() !== '') : [];
  return bounded([...blocks, ...extra, ...tail].join('\n'), limit);
}

/** Same code up to trailing whitespace and blank lines (what makes two bugs the same bug). */
export function normaliseCode(code: string): string {
  return code
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trimEnd();
}
