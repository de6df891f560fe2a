import { defineKind, RESULT } from '../../workflow/index.js';
import { DocCache } from './artifacts.js';
import { baselineHandler } from './baseline.js';
import { batchHandler } from './batch.js';
import { mutationCli } from './cli.js';
import { expandMutation } from './expand.js';
import { mutationHtml } from './html.js';
import { mutationMessages, mutationSpecSchema } from './messages.js';
import { mutateHandler } from './mutate.js';
import { planHandler } from './plan.js';
import { ProjectCache } from './project.js';
import { mutationReport } from './report.js';
import { mutationDeadLettered, mutationResultSchema } from './result.js';

export * from './messages.js';
export * from './result.js';
export * from './artifacts.js';
export { buildPlan, batchTimeout, mutantBudget, pickEvenly } from './planning.js';
export { baselineDoc, parseRanges } from './baseline.js';
export { mutantOutcome } from './batch.js';
export { batchJobId } from './plan.js';
export { mutantDiff } from './diff.js';
export { mutationSummary, type MutationSummary } from './report.js';
export { strykerHtml, strykerProblems, strykerReport, strykerStatus } from './stryker.js';
export { readProjectDir, globRegExp, defaultTestGlobs } from './project-dir.js';
export { parseProjects, projectError } from './project.js';
export { pytestFileFor } from './from-run.js';
export { mutationSummaryLines } from './cli.js';

/**
 * `mutation`: a mutation-testing report for Python projects. Per project: the mutator makes the mutants
 * (`mutation.mutate`), the evaluator runs the suite once (`mutation.baseline`: which tests pass, which
 * mutants each reaches), the mutator plans batches and fans out (`mutation.plan`: one job per batch, added
 * to the run), the evaluators run the batches (`mutation.batch`).
 */
export const mutationKind = defineKind({
  name: 'mutation',
  description:
    'mutation testing of Python projects: killed, survived, timeout, incompetent, no coverage; Stryker reports',
  spec: mutationSpecSchema,
  messages: [mutationMessages.mutate, mutationMessages.baseline, mutationMessages.plan, mutationMessages.batch],
  pipeline: {
    produce: { mutate: mutationMessages.mutate.type },
    [mutationMessages.mutate.type]: { mutated: mutationMessages.baseline.type, no_mutants: RESULT },
    [mutationMessages.baseline.type]: { covered: mutationMessages.plan.type, baseline_failed: RESULT },
    [mutationMessages.plan.type]: { batch: mutationMessages.batch.type, planned: RESULT },
    [mutationMessages.batch.type]: { done: RESULT },
  },
  expand: expandMutation,
  worker: (host) => {
    const projects = new ProjectCache(host.store);
    const docs = new DocCache(host.store);
    return [
      mutateHandler(projects, docs),
      baselineHandler(projects, docs),
      planHandler(projects, docs),
      batchHandler(projects, docs),
    ];
  },
  result: mutationResultSchema,
  group: (r) => r.project,
  deadLettered: mutationDeadLettered,
  report: mutationReport,
  html: mutationHtml,
  cli: mutationCli,
});
