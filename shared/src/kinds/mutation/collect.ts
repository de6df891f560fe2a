// A run's results gathered per project, with the documents its jobs stored: what every report of a
// mutation run is computed from (the store alone, so reports can be rebuilt).
import { getJson, type ArtifactStore } from '../../storage/index.js';
import type { TypedResult } from '../../workflow/index.js';
import {
  baselineDocSchema,
  mutantsDocSchema,
  planDocSchema,
  type BaselineDoc,
  type MutantsDoc,
  type PlanDoc,
  type StoredMutant,
} from './artifacts.js';
import { projectSchema, type Project } from './messages.js';
import type { MutantOutcome, MutantStatus, MutationResult } from './result.js';

export type ProjectStatus = 'tested' | 'baseline_failed' | 'no_mutants' | 'dead_lettered' | 'incomplete';

export type ProjectReport = {
  id: string;
  status: ProjectStatus;
  error?: string;
  result?: MutationResult;
  project?: Project;
  mutants?: MutantsDoc;
  plan?: PlanDoc;
  baseline?: BaselineDoc;
  /** Every mutant of a tested project with its outcome (one without a result is `infra_error`). */
  rows: { mutant: StoredMutant; outcome: MutantOutcome }[];
};

async function optional<T>(load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch {
    return undefined;
  }
}

export async function collectProjects(
  results: readonly TypedResult<MutationResult>[],
  store: ArtifactStore,
): Promise<ProjectReport[]> {
  const outcomes = new Map<string, Map<string, MutantOutcome>>();
  const own = new Map<string, TypedResult<MutationResult>>();
  for (const r of results) {
    const map = outcomes.get(r.result.project) ?? new Map<string, MutantOutcome>();
    for (const o of r.result.mutants) if (!map.has(o.id)) map.set(o.id, o);
    outcomes.set(r.result.project, map);
    if (r.result.role === 'project') own.set(r.result.project, r);
  }
  const ids = [...new Set([...outcomes.keys()])].sort();
  const out: ProjectReport[] = [];
  for (const id of ids) {
    const r = own.get(id);
    const refs = r?.artifacts ?? {};
    const load = <T>(name: string, f: (key: string) => Promise<T>) => {
      const ref = refs[name];
      return ref ? optional(() => f(ref.key)) : Promise.resolve(undefined);
    };
    const [project, mutants, plan, baseline] = await Promise.all([
      load('project', (k) => getJson(store, k, projectSchema)),
      load('mutants', (k) => getJson(store, k, mutantsDocSchema)),
      load('plan', (k) => getJson(store, k, planDocSchema)),
      load('baseline', (k) => getJson(store, k, baselineDocSchema)),
    ]);
    const status: ProjectStatus = !r
      ? 'incomplete'
      : r.outcome === 'dead_lettered'
        ? 'dead_lettered'
        : r.result.baseline && !r.result.baseline.passed
          ? 'baseline_failed'
          : r.result.total === 0
            ? 'no_mutants'
            : plan && mutants
              ? 'tested'
              : 'incomplete';
    const got = outcomes.get(id) ?? new Map<string, MutantOutcome>();
    const rows =
      status === 'tested' && mutants
        ? mutants.mutants.map((mutant) => ({
            mutant,
            outcome: got.get(mutant.id) ?? {
              id: mutant.id,
              status: 'infra_error',
              reason: 'no result',
            },
          }))
        : [];
    out.push({
      id,
      status,
      ...(r?.result.error ? { error: r.result.error } : {}),
      ...(r ? { result: r.result } : {}),
      ...(project ? { project } : {}),
      ...(mutants ? { mutants } : {}),
      ...(plan ? { plan } : {}),
      ...(baseline ? { baseline } : {}),
      rows,
    });
  }
  return out;
}

export type Counts = Record<MutantStatus, number>;

export function emptyCounts(): Counts {
  return { killed: 0, survived: 0, timeout: 0, incompetent: 0, no_coverage: 0, infra_error: 0 };
}

/**
 * Stryker's mutation score: detected (killed, timeout) over valid (detected, survived, no coverage);
 * incompetent and infrastructure errors are left out. Null when nothing is valid.
 */
export function score(c: Counts): number | null {
  const detected = c.killed + c.timeout;
  const valid = detected + c.survived + c.no_coverage;
  return valid === 0 ? null : Math.round((10000 * detected) / valid) / 100;
}

/** The same over covered mutants only (no coverage left out). */
export function coveredScore(c: Counts): number | null {
  const detected = c.killed + c.timeout;
  const valid = detected + c.survived;
  return valid === 0 ? null : Math.round((10000 * detected) / valid) / 100;
}
