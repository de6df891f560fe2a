import { PermanentError } from '../../errors/index.js';
import { objectRefSchema } from '../../messages/index.js';
import { loadResults, loadRunRecord } from '../../runs/index.js';
import type { ArtifactStore } from '../../storage/index.js';
import type { ExpandContext, Expansion, PlannedJob } from '../../workflow/index.js';
import { projectsFromSolveRun } from './from-run.js';
import { mutationSettingsSchema, type MutatePayload, type MutationSpec, type Project } from './messages.js';
import { parseProjects, storeProject } from './project.js';
import { mutationResultSchema } from './result.js';

async function readText(store: ArtifactStore, key: string): Promise<string> {
  const body = await store.getOptional(key);
  if (!body) throw new PermanentError('dataset_missing', `${key} is not in the artifact store`);
  return body.toString('utf8');
}

/** `--rerun-survivors RUN`: each project of RUN with survivors, to re-run exactly those mutants. */
async function rerunJobs(store: ArtifactStore, runId: string, settings: MutatePayload['settings']) {
  const record = await loadRunRecord(runId, store).catch(() => undefined);
  if (!record) throw new PermanentError('run_missing', `no run ${runId} in the store`);
  if (record.kind !== 'mutation')
    throw new PermanentError('run_kind', `run ${runId} is a ${record.kind} run, not mutation`);
  const survivors = new Map<string, string[]>();
  const refs = new Map<string, { bundle: unknown; mutants: unknown }>();
  for (const stored of await loadResults(runId, store)) {
    const r = mutationResultSchema.safeParse(stored.result);
    if (!r.success) continue;
    const ids = r.data.mutants.filter((m) => m.status === 'survived').map((m) => m.id);
    survivors.set(r.data.project, [...(survivors.get(r.data.project) ?? []), ...ids]);
    if (r.data.role === 'project')
      refs.set(r.data.project, { bundle: stored.artifacts['project'], mutants: stored.artifacts['mutants'] });
  }
  const jobs: PlannedJob[] = [];
  for (const [project, only] of [...survivors].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const ref = refs.get(project);
    const bundle = objectRefSchema.safeParse(ref?.bundle);
    const mutants = objectRefSchema.safeParse(ref?.mutants);
    if (only.length === 0 || !bundle.success || !mutants.success) continue;
    const payload: MutatePayload = {
      project,
      bundle: bundle.data,
      settings,
      rerun: { mutants: mutants.data, only: only.sort((a, b) => Number(a) - Number(b)) },
    };
    jobs.push({ jobId: project, outcome: 'mutate', payload });
  }
  if (jobs.length === 0) throw new PermanentError('no_survivors', `run ${runId} has no surviving mutant`);
  return jobs;
}

/** One job per project: mutate → baseline → plan → a job per batch (added when planned). */
export async function expandMutation(ctx: ExpandContext<MutationSpec>): Promise<Expansion> {
  const { spec, store } = ctx;
  const settings = mutationSettingsSchema.parse(spec);
  if (spec.rerunSurvivors) {
    const jobs = await rerunJobs(store, spec.rerunSurvivors, settings);
    return { jobs, meta: { source: 'rerun', rerunOf: spec.rerunSurvivors, projects: jobs.map((j) => j.jobId) } };
  }
  let projects: Project[];
  if (spec.fromRun) projects = await projectsFromSolveRun(store, spec.fromRun);
  else if (spec.projects) projects = parseProjects(await readText(store, spec.projects.key));
  else throw new PermanentError('invalid_spec', 'a mutation run needs projects, fromRun or rerunSurvivors');
  const jobs: PlannedJob[] = [];
  for (const project of projects) {
    const payload: MutatePayload = { project: project.id, bundle: await storeProject(store, project), settings };
    jobs.push({ jobId: project.id, outcome: 'mutate', payload });
  }
  return {
    jobs,
    meta: {
      source: spec.fromRun ? 'fromRun' : 'projects',
      ...(spec.fromRun ? { fromRun: spec.fromRun } : {}),
      projects: projects.map((p) => p.id),
    },
  };
}
