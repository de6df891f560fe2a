import { RetryableError } from '../../errors/index.js';
import { runKeys } from '../../runs/index.js';
import { defineHandler, need, type Handler, type SandboxResult } from '../../workflow/index.js';
import {
  baselineDocSchema,
  mutantsDocSchema,
  projectKeys,
  putOnce,
  type BaselineDoc,
  type DocCache,
} from './artifacts.js';
import { mutationMessages } from './messages.js';
import type { ProjectCache } from './project.js';
import type { BaselineSummary, MutationResult } from './result.js';

/** `0-4,7` → [0,1,2,3,4,7]; undefined when the text is not a coverage record. */
export function parseRanges(text: string | undefined): number[] | undefined {
  if (text === undefined || !text.startsWith('c:')) return undefined;
  const body = text.slice(2);
  if (body === '') return [];
  const out: number[] = [];
  for (const part of body.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    for (let i = from; i <= to; i++) out.push(i);
  }
  return out;
}

const all = (n: number) => Array.from({ length: n }, (_, i) => i);

/**
 * The baseline as the plan needs it. A coverage record that is missing or unreadable (the sandbox bounds
 * its replies) counts as reaching every mutant: a mutant is then run rather than wrongly `no_coverage`.
 */
export function baselineDoc(result: SandboxResult, mutantCount: number): BaselineDoc {
  const collect = result.tests[0]?.name === '@collect' ? result.tests[0] : undefined;
  const tests = collect ? result.tests.slice(1) : result.tests;
  const passed = result.verdict === 'passed' && tests.length > 0;
  return {
    passed,
    ...(result.reason ? { reason: result.reason } : {}),
    ...(result.message ? { message: result.message.slice(-4000) } : {}),
    tests: tests.map((t) => ({ name: t.name, outcome: t.outcome, ms: t.durationMs ?? 0 })),
    setupMs: collect?.durationMs ?? result.durationMs,
    durationMs: result.durationMs,
    collect: parseRanges(collect?.message) ?? all(mutantCount),
    reached: tests.map((t) => parseRanges(t.message) ?? all(mutantCount)),
  };
}

/** What a user reads when the suite does not pass without mutants. */
export function baselineSummary(doc: BaselineDoc, timeoutMs: number): BaselineSummary {
  const failing = doc.tests.filter((t) => t.outcome === 'failed' || t.outcome === 'error').map((t) => t.name);
  let message = doc.message;
  if (doc.reason === 'wall_clock' || doc.reason === 'timeout')
    message = `the suite did not finish within ${Math.round(timeoutMs / 1000)} s`;
  return {
    passed: doc.passed,
    tests: doc.tests.length,
    failing,
    ...(doc.reason ? { reason: doc.reason } : {}),
    ...(message ? { message: message.slice(-2000) } : {}),
    durationMs: doc.durationMs,
  };
}

/**
 * `mutation.baseline` (the evaluator): the whole suite once, unmutated, with per-test coverage of the
 * mutants. A suite that does not pass ends the project here with the failing tests named.
 */
export function baselineHandler(projects: ProjectCache, docs: DocCache): Handler {
  return defineHandler(mutationMessages.baseline, async (job, ctx) => {
    const sandbox = need(ctx.caps, 'sandbox');
    const [project, mutants] = await Promise.all([projects.get(job.bundle), docs.get(job.mutants, mutantsDocSchema)]);
    const result = await sandbox.run({
      jobId: `${ctx.env.jobId}:baseline`,
      runner: 'mutants',
      files: project.files,
      plan: {
        mode: 'baseline',
        testFiles: project.tests,
        mutants: mutants.mutants.map((m) => ({ file: m.file, cover: m.cover })),
      },
      timeoutMs: job.settings.baselineTimeoutMs,
      memoryMb: job.settings.memoryMb,
    });
    if (result.verdict === 'infra_error')
      throw new RetryableError('sandbox_infra', `sandbox infrastructure failed: ${result.reason ?? 'unknown'}`);
    await ctx.store.put(
      runKeys.job(ctx.env.runId, job.project, `baseline-verdict-${ctx.env.attempt}.json`),
      JSON.stringify(result),
      { contentType: 'application/json' },
    );
    const { ref, value } = await putOnce(
      ctx.store,
      projectKeys.baseline(ctx.env.runId, job.project),
      baselineDoc(result, mutants.mutants.length),
      baselineDocSchema,
    );
    const summary = baselineSummary(value, job.settings.baselineTimeoutMs);
    if (!value.passed) {
      const failing = summary.failing.length > 0 ? `failing tests: ${summary.failing.slice(0, 10).join(', ')}` : '';
      const result: MutationResult = {
        project: job.project,
        role: 'project',
        mutants: [],
        total: job.count,
        batches: 0,
        baseline: summary,
        error: `the test suite does not pass without mutants (${summary.reason ?? 'failed'})${failing ? `; ${failing}` : ''}`,
      };
      await ctx.emit('baseline_failed', result, {
        artifacts: { project: job.bundle, mutants: job.mutants, baseline: ref },
      });
      return;
    }
    await ctx.emit('covered', {
      project: job.project,
      bundle: job.bundle,
      settings: job.settings,
      mutants: job.mutants,
      baseline: ref,
    });
  });
}
