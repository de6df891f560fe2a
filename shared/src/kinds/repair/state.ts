import { z } from 'zod';
import { RetryableError } from '../../errors/index.js';
import type { ObjectRefField } from '../../messages/index.js';
import { runKeys } from '../../runs/index.js';
import { getJson, putJson, type ArtifactStore } from '../../storage/index.js';
import type { JobContext, SandboxJob, SandboxResult } from '../../workflow/index.js';
import { bugSchema, type Bug } from './dataset.js';
import { failureOutput } from './prompt.js';

/** Bugs arrive as claim checks shared by every job of the bug; a worker reads each once. */
export class BugCache {
  private readonly bugs = new Map<string, Bug>();
  constructor(private readonly store: ArtifactStore) {}

  async get(ref: ObjectRefField): Promise<Bug> {
    const cached = this.bugs.get(ref.key);
    if (cached) return cached;
    const bug = await getJson(this.store, ref.key, bugSchema);
    if (this.bugs.size > 5_000) this.bugs.clear();
    this.bugs.set(ref.key, bug);
    return bug;
  }
}

/** The conversation and the project after a turn's patch: what the next step starts from. */
export const turnStateSchema = z.object({
  turn: z.number().int().positive(),
  files: z.record(z.string(), z.string()),
  messages: z.array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string() })),
  answer: z.string(),
  replaced: z.array(z.string()),
  appended: z.array(z.string()),
  diff: z.string(),
});
export type TurnState = z.infer<typeof turnStateSchema>;

export async function saveTurn(ctx: JobContext, state: TurnState): Promise<ObjectRefField> {
  return putJson(ctx.store, runKeys.job(ctx.env.runId, ctx.env.jobId, `turn-${state.turn}.json`), state);
}

export function loadTurn(ctx: JobContext, ref: ObjectRefField): Promise<TurnState> {
  return getJson(ctx.store, ref.key, turnStateSchema);
}

/** The whole project (modules, support files and tests) as a sandbox job. */
export function projectJob(
  jobId: string,
  bug: Bug,
  files: Readonly<Record<string, string>>,
  limits: { timeoutMs: number; memoryMb: number },
): SandboxJob {
  return {
    jobId,
    runner: 'project',
    files: { ...files, ...bug.testFiles },
    testFiles: Object.keys(bug.testFiles).sort(),
    timeoutMs: limits.timeoutMs,
    memoryMb: limits.memoryMb,
  };
}

/** What the buggy code does under its tests: per-test outcomes, what fails, and the output. */
export const baselineSchema = z.object({
  verdict: z.string(),
  outcomes: z.record(z.string(), z.string()),
  failing: z.array(z.string()),
  output: z.string(),
});
export type Baseline = z.infer<typeof baselineSchema>;

export async function runSuite(ctx: JobContext, job: SandboxJob): Promise<SandboxResult> {
  const sandbox = ctx.caps.sandbox;
  if (!sandbox) throw new Error('the repair kind runs its suites on the sandbox capability');
  const result = await sandbox.run(job);
  if (result.verdict === 'infra_error')
    throw new RetryableError('sandbox_infra', `sandbox infrastructure failed: ${result.reason ?? 'unknown'}`);
  return result;
}

function outcomesOf(result: SandboxResult): Record<string, string> {
  return Object.fromEntries(result.tests.map((t) => [t.name, t.outcome]));
}

/**
 * The buggy code's baseline, run once per bug whatever the number of models and samples (cached in
 * the store by the bug's content hash; equal bugs give equal baselines).
 */
export async function baselineOf(
  ctx: JobContext,
  bug: Bug,
  bugRef: ObjectRefField,
  limits: { timeoutMs: number; memoryMb: number },
): Promise<Baseline> {
  const key = `repair/baselines/${bugRef.sha256}.json`;
  const cached = await ctx.store.getOptional(key);
  if (cached) return baselineSchema.parse(JSON.parse(cached.toString('utf8')));
  const result = await runSuite(ctx, projectJob(`${ctx.env.jobId}/baseline`, bug, bug.files, limits));
  const outcomes = outcomesOf(result);
  const baseline: Baseline = {
    verdict: result.verdict,
    outcomes,
    failing: Object.keys(outcomes).filter((t) => outcomes[t] === 'failed' || outcomes[t] === 'error'),
    output: failureOutput(result),
  };
  await ctx.store.putIfAbsent(key, JSON.stringify(baseline), { contentType: 'application/json' });
  return baseline;
}

/** Whether the bug reproduces: its named failing tests fail (or, without names, the suite fails). */
export function reproduces(bug: Bug, baseline: Baseline): boolean {
  if (bug.failingTests) return bug.failingTests.some((t) => baseline.outcomes[t] !== 'passed');
  return baseline.verdict !== 'passed';
}

/**
 * A patched run against the baseline. Fixed: every named failing test passes and nothing that
 * passed before fails now (without names: the whole suite passes).
 */
export function judge(
  bug: Bug,
  baseline: Baseline,
  result: SandboxResult,
): { fixed: boolean; failing: string[]; regressions: string[] } {
  const after = outcomesOf(result);
  const failing = Object.keys(after).filter((t) => after[t] === 'failed' || after[t] === 'error');
  const regressions = Object.keys(baseline.outcomes).filter(
    (t) => baseline.outcomes[t] === 'passed' && after[t] !== 'passed',
  );
  const fixed = bug.failingTests
    ? bug.failingTests.every((t) => after[t] === 'passed') && regressions.length === 0
    : result.verdict === 'passed';
  return { fixed, failing, regressions };
}
