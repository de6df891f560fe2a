import { PermanentError } from '../../errors/index.js';
import { defineHandler, type Handler } from '../../workflow/index.js';
import {
  baselineDocSchema,
  mutantsDocSchema,
  planDocSchema,
  projectKeys,
  putOnce,
  type DocCache,
} from './artifacts.js';
import { baselineSummary } from './baseline.js';
import { batchPayloadSchema, mutationMessages } from './messages.js';
import { buildPlan } from './planning.js';
import type { ProjectCache } from './project.js';
import type { MutationResult } from './result.js';

/** A batch's job id: the project's, then `/b<n>` (project ids hold no `/`). */
export function batchJobId(project: string, batch: number): string {
  return `${project}/b${batch}`;
}

/**
 * `mutation.plan` (the mutator): which tests run against each mutant, in which batch. The batches become
 * jobs of their own: added to the run's total first, then published; the project's job ends with the
 * mutants no test reaches.
 */
export function planHandler(projects: ProjectCache, docs: DocCache): Handler {
  return defineHandler(mutationMessages.plan, async (job, ctx) => {
    const [project, mutants, baseline] = await Promise.all([
      projects.get(job.bundle),
      docs.get(job.mutants, mutantsDocSchema),
      docs.get(job.baseline, baselineDocSchema),
    ]);
    const { ref, value: plan } = await putOnce(
      ctx.store,
      projectKeys.plan(ctx.env.runId, job.project),
      buildPlan(mutants, baseline, job.settings, project.tests),
      planDocSchema,
    );
    // Everything that could fail for good is checked before the run's total grows.
    const batches = plan.batches.map((b, i) =>
      batchPayloadSchema.parse({
        project: job.project,
        bundle: job.bundle,
        settings: job.settings,
        plan: ref,
        batch: i,
        ids: b.mutants.map((m) => m.id),
      }),
    );
    if (batches.length > 0) {
      if (!ctx.addJobs) throw new PermanentError('no_fan_out', 'this worker cannot add jobs to a run');
      await ctx.addJobs(batches.length);
    }
    for (const payload of batches) await ctx.emit('batch', payload, { jobId: batchJobId(job.project, payload.batch) });
    const result: MutationResult = {
      project: job.project,
      role: 'project',
      mutants: plan.noCoverage.map((id) => ({ id, status: 'no_coverage', testsRun: 0 })),
      total: mutants.mutants.length,
      batches: batches.length,
      baseline: baselineSummary(baseline, job.settings.baselineTimeoutMs),
    };
    await ctx.emit('planned', result, {
      artifacts: { project: job.bundle, mutants: job.mutants, baseline: job.baseline, plan: ref },
    });
  });
}
