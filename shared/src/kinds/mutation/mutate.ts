import { PermanentError } from '../../errors/index.js';
import { defineHandler, need, type Handler, type JobContext } from '../../workflow/index.js';
import { mutantsDocSchema, projectKeys, putOnce, type DocCache, type MutantsDoc } from './artifacts.js';
import { mutationMessages, type MutatePayload } from './messages.js';
import { pickEvenly } from './planning.js';
import type { ProjectCache } from './project.js';
import type { MutationResult } from './result.js';

/** The project's mutants: made by the mutation capability (ids in source order), or an earlier run's. */
async function makeMutants(job: MutatePayload, ctx: JobContext, projects: ProjectCache, docs: DocCache) {
  if (job.rerun) {
    const earlier = await docs.get(job.rerun.mutants, mutantsDocSchema);
    const only = new Set(job.rerun.only);
    const mutants = earlier.mutants.filter((m) => only.has(m.id));
    return { project: job.project, mutants, skipped: {}, errors: [], generated: earlier.mutants.length };
  }
  const mutation = need(ctx.caps, 'mutation');
  const project = await projects.get(job.bundle);
  const files = project.source.map((path) => ({ path, text: project.files[path] ?? '' }));
  let made;
  try {
    made = await mutation.mutate({ files, ...(job.settings.operators ? { operators: job.settings.operators } : {}) });
  } catch (err) {
    // An unknown operator is the request's mistake: it never succeeds.
    throw new PermanentError('mutation_failed', err instanceof Error ? err.message : String(err));
  }
  const all = made.mutants.map((m, i) => ({ id: String(i + 1), ...m }));
  const mutants = job.settings.maxMutants ? pickEvenly(all, job.settings.maxMutants) : all;
  return { project: job.project, mutants, skipped: made.skipped, errors: made.errors, generated: all.length };
}

/** `mutation.mutate` (the mutator): the project's mutants, stored once, then its baseline. */
export function mutateHandler(projects: ProjectCache, docs: DocCache): Handler {
  return defineHandler(mutationMessages.mutate, async (job, ctx) => {
    const made: MutantsDoc = await makeMutants(job, ctx, projects, docs);
    const { ref, value } = await putOnce(
      ctx.store,
      projectKeys.mutants(ctx.env.runId, job.project),
      made,
      mutantsDocSchema,
    );
    if (value.mutants.length === 0) {
      const why = value.errors.map((e) => `${e.file}: ${e.message}`).join('; ');
      const result: MutationResult = {
        project: job.project,
        role: 'project',
        mutants: [],
        total: 0,
        batches: 0,
        error: why ? `no mutant could be made: ${why}` : 'no mutant could be made (nothing to mutate)',
      };
      await ctx.emit('no_mutants', result, { artifacts: { project: job.bundle, mutants: ref } });
      return;
    }
    await ctx.emit('mutated', {
      project: job.project,
      bundle: job.bundle,
      settings: job.settings,
      mutants: ref,
      count: value.mutants.length,
    });
  });
}
