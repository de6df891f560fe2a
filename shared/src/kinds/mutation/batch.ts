import { z } from 'zod';
import { RetryableError } from '../../errors/index.js';
import { runKeys } from '../../runs/index.js';
import {
  defineHandler,
  need,
  type Handler,
  type MutantsBatchMutant,
  type SandboxTestOutcome,
} from '../../workflow/index.js';
import { planDocSchema, type DocCache, type PlanDoc } from './artifacts.js';
import { mutationMessages } from './messages.js';
import { batchTimeout } from './planning.js';
import type { ProjectCache } from './project.js';
import type { MutantOutcome, MutantStatus, MutationResult } from './result.js';

/** Sandbox jobs per batch: a job that ended early (its process killed, its time spent) leaves mutants to redo. */
const ROUNDS = 3;

const detailSchema = z.object({
  s: z.enum(['killed', 'survived', 'timeout', 'incompetent', 'error']),
  by: z.array(z.string()).optional(),
  n: z.number().int().nonnegative().optional(),
  why: z.string().optional(),
});

const statusOf: Record<z.infer<typeof detailSchema>['s'], MutantStatus> = {
  killed: 'killed',
  survived: 'survived',
  timeout: 'timeout',
  incompetent: 'incompetent',
  error: 'infra_error',
};

/** A mutant's outcome from the sandbox's record of it (see SandboxMutantsJob), or undefined. */
export function mutantOutcome(test: SandboxTestOutcome): MutantOutcome | undefined {
  let detail: z.infer<typeof detailSchema>;
  try {
    const parsed = detailSchema.safeParse(JSON.parse(test.message ?? ''));
    if (!parsed.success) return undefined;
    detail = parsed.data;
  } catch {
    return undefined;
  }
  return {
    id: test.name,
    status: statusOf[detail.s],
    ...(detail.by?.length ? { killedBy: detail.by } : {}),
    ...(detail.n !== undefined ? { testsRun: detail.n } : {}),
    ...(test.durationMs !== undefined ? { durationMs: test.durationMs } : {}),
    ...(detail.why ? { reason: detail.why.slice(-1000) } : {}),
  };
}

function sandboxPlan(plan: PlanDoc, mutants: MutantsBatchMutant[]) {
  const { testFiles, tests, testMs, setupMs, factor, floorMs } = plan;
  return { mode: 'mutants' as const, testFiles, tests, testMs, setupMs, factor, floorMs, mutants };
}

/** `mutation.batch` (the evaluator): a batch of mutants in the sandbox; each mutant's outcome in the result. */
export function batchHandler(projects: ProjectCache, docs: DocCache): Handler {
  return defineHandler(mutationMessages.batch, async (job, ctx) => {
    const sandbox = need(ctx.caps, 'sandbox');
    const [project, plan] = await Promise.all([projects.get(job.bundle), docs.get(job.plan, planDocSchema)]);
    const batch = plan.batches[job.batch];
    if (!batch) throw new RetryableError('plan_mismatch', `the plan has no batch ${job.batch}`);
    const outcomes = new Map<string, MutantOutcome>();
    let pending = batch.mutants;
    for (let round = 0; round < ROUNDS && pending.length > 0; round++) {
      const result = await sandbox.run({
        jobId: `${ctx.env.jobId}:${round}`,
        runner: 'mutants',
        files: project.files,
        plan: sandboxPlan(plan, pending),
        timeoutMs: batchTimeout(plan, pending),
        memoryMb: job.settings.memoryMb,
      });
      if (result.verdict === 'infra_error')
        throw new RetryableError('sandbox_infra', `sandbox infrastructure failed: ${result.reason ?? 'unknown'}`);
      if (result.verdict !== 'passed') {
        // Kept for `evalfleet mutants` and for whoever wonders why a batch took several jobs.
        await ctx.store.put(
          runKeys.job(ctx.env.runId, ctx.env.jobId, `verdict-${ctx.env.attempt}-${round}.json`),
          JSON.stringify(result),
          { contentType: 'application/json' },
        );
      }
      const wanted = new Set(pending.map((m) => m.id));
      for (const test of result.tests) {
        const outcome = mutantOutcome(test);
        if (outcome && wanted.has(outcome.id) && !outcomes.has(outcome.id)) outcomes.set(outcome.id, outcome);
      }
      pending = pending.filter((m) => !outcomes.has(m.id));
    }
    for (const m of pending)
      outcomes.set(m.id, { id: m.id, status: 'infra_error', reason: `no verdict after ${ROUNDS} sandbox jobs` });
    const result: MutationResult = {
      project: job.project,
      role: 'batch',
      batch: job.batch,
      mutants: batch.mutants.map((m) => outcomes.get(m.id) ?? { id: m.id, status: 'infra_error' }),
    };
    await ctx.emit('done', result, { artifacts: { plan: job.plan } });
  });
}
