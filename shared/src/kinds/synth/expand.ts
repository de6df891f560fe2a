import { PermanentError } from '../../errors/index.js';
import type { ObjectRefField } from '../../messages/index.js';
import { contentKey, type ArtifactStore } from '../../storage/index.js';
import type { ExpandContext, Expansion, PlannedJob } from '../../workflow/index.js';
import { interleaveByDomain, parseCatalog } from './catalog.js';
import type { SynthJob, SynthSpec, ValidatePayload } from './messages.js';
import { assignScenarios, usedSetName } from './scenarios.js';
import { savedTaskSchema } from './validate.js';

async function loadText(store: ArtifactStore, ref: ObjectRefField, what: string): Promise<string> {
  const body = await store.getOptional(ref.key);
  if (!body) throw new PermanentError('dataset_missing', `${what} ${ref.key} is not in the artifact store`);
  return body.toString('utf8');
}

export const synthJobId = (model: string, slot: number) => `${model}/${slot}`;

/** The lines of a tasks.jsonl that `validate` can re-run, and why the others cannot be. */
export function parseSavedTasks(text: string) {
  const tasks: { line: number; task: ReturnType<typeof savedTaskSchema.parse> }[] = [];
  const errors: { line: number; message: string }[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      errors.push({ line: i + 1, message: 'not JSON' });
      continue;
    }
    const parsed = savedTaskSchema.safeParse(json);
    if (parsed.success) tasks.push({ line: i + 1, task: parsed.data });
    else
      errors.push({
        line: i + 1,
        message: parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; '),
      });
  }
  return { tasks, errors };
}

async function expandValidate(ctx: ExpandContext<SynthSpec>, tasksRef: ObjectRefField): Promise<Expansion> {
  const { tasks, errors } = parseSavedTasks(await loadText(ctx.store, tasksRef, 'tasks file'));
  if (tasks.length === 0)
    throw new PermanentError(
      'no_tasks',
      `the tasks file has no task to validate${errors[0] ? ` (line ${errors[0].line}: ${errors[0].message})` : ''}`,
    );
  const jobs: PlannedJob[] = [];
  for (const { line, task } of tasks) {
    const body = JSON.stringify(task);
    const { ref } = await ctx.store.putIfAbsent(contentKey('synth/validate', body, 'json'), body, {
      contentType: 'application/json',
    });
    const payload: ValidatePayload = {
      mode: 'validate',
      instanceId: task.instance_id,
      line,
      task: ref,
      timeoutMs: ctx.spec.timeoutMs,
      memoryMb: ctx.spec.memoryMb,
    };
    jobs.push({ jobId: `validate/${line}`, outcome: 'validate', payload });
  }
  return {
    jobs,
    meta: { mode: 'validate', tasksKey: tasksRef.key, tasks: tasks.length, errors: errors.slice(0, 100) },
  };
}

/**
 * `generate`: `count` scenarios per model from the catalog, each unused by earlier runs unless
 * `allowRepeat` (see scenarios.ts), one job each. `validate`: one job per saved task.
 */
export async function expandSynth(ctx: ExpandContext<SynthSpec>): Promise<Expansion> {
  const { spec, store } = ctx;
  if (spec.mode === 'validate') {
    if (!spec.tasks) throw new PermanentError('no_tasks', 'a validate run needs tasks');
    return expandValidate(ctx, spec.tasks);
  }
  if (!spec.catalog) throw new PermanentError('no_catalog', 'a synth run needs a catalog');
  const known = ctx.knownModels();
  const missing = spec.models.filter((m) => !known.has(m));
  if (missing.length > 0)
    throw new PermanentError('unknown_model', `models not in the registry: ${missing.join(', ')}`);
  let catalog;
  try {
    catalog = parseCatalog(await loadText(store, spec.catalog, 'catalog'));
  } catch (err) {
    if (err instanceof PermanentError) throw err;
    throw new PermanentError('invalid_catalog', err instanceof Error ? err.message : String(err));
  }
  const assignment = await assignScenarios({
    runId: ctx.runId,
    store,
    ...(ctx.sharedSet ? { used: ctx.sharedSet(usedSetName) } : {}),
    scenarios: interleaveByDomain(catalog.scenarios),
    models: spec.models,
    count: spec.count,
    allowRepeat: spec.allowRepeat,
  });
  if (assignment.jobs.length === 0)
    throw new PermanentError(
      'catalog_exhausted',
      `every scenario of catalog ${catalog.name} (${catalog.scenarios.length}) has been used; pass --allow-repeat or a larger catalog`,
    );
  if (assignment.short > 0)
    ctx.logger.warn({ short: assignment.short }, 'the catalog ran out of unused scenarios; the run has fewer jobs');
  const jobs: PlannedJob[] = assignment.jobs.map(({ model, slot, scenario }) => {
    const payload: SynthJob = {
      mode: 'generate',
      model,
      slot,
      scenario,
      strategies: spec.strategies,
      retries: spec.retries,
      maxCandidates: spec.maxCandidates,
      fileEdit: spec.fileEdit,
      suppressBuggyCode: spec.suppressBuggyCode,
      temperature: spec.temperature,
      maxTokens: spec.maxTokens,
      timeoutMs: spec.timeoutMs,
      memoryMb: spec.memoryMb,
      ...(spec.budgetUsd !== undefined ? { budgetUsd: spec.budgetUsd } : {}),
      noCache: spec.noCache,
      gen: 1,
      rejections: [],
      promptTokens: 0,
      completionTokens: 0,
      costUsd: 0,
    };
    return { jobId: synthJobId(model, slot), outcome: 'generate', payload };
  });
  return {
    jobs,
    meta: {
      mode: 'generate',
      catalog: catalog.name,
      catalogKey: spec.catalog.key,
      catalogScenarios: catalog.scenarios.length,
      models: spec.models,
      count: spec.count,
      strategies: spec.strategies,
      retries: spec.retries,
      short: assignment.short,
      repeated: assignment.repeated,
    },
  };
}
