import type { JobContext, SandboxResult } from '../../workflow/index.js';
import { jobOf, rejectGeneration } from './job.js';
import type { CleanPayload, Rejection } from './messages.js';
import { bounded, failingOutput, failingTests, runSuite, suiteJob, taskPaths, type TaskFiles } from './project.js';
import { loadAnswer, saveJson, type CleanRuns, type StoredAnswer } from './state.js';

/** How often the clean suite must pass, with the same outcomes, before a bug is injected. */
export const cleanRuns = 3;

export function taskFilesOf(a: StoredAnswer['answer']): TaskFiles {
  return { ...taskPaths(a.moduleName), testFramework: a.testFramework, testCode: a.testCode };
}

/** The run's outcomes in a comparable form: the verdict and each test's outcome. */
function signature(r: SandboxResult): string {
  return [r.verdict, ...r.tests.map((t) => `${t.name}=${t.outcome}`).sort()].join('\n');
}

function changed(a: SandboxResult, b: SandboxResult): string[] {
  const before = new Map(a.tests.map((t) => [t.name, t.outcome]));
  const names = new Set([...a.tests.map((t) => t.name), ...b.tests.map((t) => t.name)]);
  const after = new Map(b.tests.map((t) => [t.name, t.outcome]));
  return [...names].filter((n) => before.get(n) !== after.get(n));
}

const passedAll = (r: SandboxResult) => r.verdict === 'passed' && failingTests(r).length === 0;

/**
 * Why the clean suite's runs do not make a task, or undefined. Runs stop early: outcomes that differ
 * from the first run's are flaky; two identical failing runs are a suite that fails on clean code.
 */
export function judgeCleanRuns(gen: number, runs: readonly SandboxResult[]): Rejection | undefined {
  const [first, ...rest] = runs;
  if (!first) return { gen, reason: 'clean_fails', message: 'the suite did not run' };
  for (const [i, r] of rest.entries()) {
    if (signature(r) !== signature(first)) {
      const tests = changed(first, r);
      return {
        gen,
        reason: 'flaky_suite',
        message: `run ${i + 2} differs from run 1 (${first.verdict} → ${r.verdict}): ${tests.length} tests changed outcome, e.g. ${tests.slice(0, 3).join(', ')}`,
      };
    }
  }
  if (!passedAll(first)) {
    const failing = failingTests(first);
    return {
      gen,
      reason: 'clean_fails',
      message: bounded(
        `${failing.length || 'the'} of ${first.tests.length} tests fail on the clean module (${first.verdict}${first.reason ? `, ${first.reason}` : ''}): ${failing.slice(0, 5).join(', ')}\n${failingOutput(first, 800)}`,
        1200,
      ),
    };
  }
  if (first.tests.length < 2)
    return {
      gen,
      reason: 'too_few_tests',
      message: `the suite has ${first.tests.length} test(s); a task needs one the bug fails and one that still passes`,
    };
  return undefined;
}

/**
 * `synth.clean`: the clean module's suite, up to three times in fresh sandboxes. It must pass every
 * time with the same tests; then the bugs are proposed (the mutator's too when ast/numeric are asked for).
 */
export async function clean(p: CleanPayload, ctx: JobContext): Promise<void> {
  const stored = await loadAnswer(ctx, p.answer);
  const files = taskFilesOf(stored.answer);
  const runs: SandboxResult[] = [];
  for (let i = 1; i <= cleanRuns; i++) {
    const r = await runSuite(
      ctx,
      suiteJob(`${ctx.env.jobId}/gen-${p.gen}/clean-${i}`, files, stored.answer.moduleCode, p),
    );
    runs.push(r);
    if (signature(r) !== signature(runs[0]!) || (!passedAll(r) && i >= 2)) break;
  }
  const record: CleanRuns = {
    tests: runs[0]?.tests.map((t) => t.name) ?? [],
    durationMs: Math.max(0, ...runs.map((r) => r.durationMs)),
    runs: runs.map((r) => ({ verdict: r.verdict, failing: failingTests(r), durationMs: r.durationMs })),
  };
  const ref = await saveJson(ctx, p.gen, 'clean.json', record);
  const rejection = judgeCleanRuns(p.gen, runs);
  if (rejection) {
    await rejectGeneration(ctx, p, rejection, 'clean');
    return;
  }
  const mutants = p.strategies.some((s) => s !== 'llm');
  await ctx.emit(
    mutants ? 'passed' : 'passed_llm_only',
    { ...jobOf(p), answer: p.answer, clean: ref },
    { progress: 'clean' },
  );
}
