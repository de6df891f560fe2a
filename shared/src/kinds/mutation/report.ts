import { runKeys } from '../../runs/index.js';
import { putJson, putJsonl } from '../../storage/index.js';
import type { ReportContext } from '../../workflow/index.js';
import { collectProjects, coveredScore, emptyCounts, score, type Counts, type ProjectReport } from './collect.js';
import type { MutationResult } from './result.js';
import { strykerHtml, strykerProblems, strykerReport } from './stryker.js';

type Group = { mutants: number; counts: Counts; score: number | null };

function group(rows: ProjectReport['rows']): Group {
  const counts = emptyCounts();
  for (const r of rows) counts[r.outcome.status] += 1;
  return { mutants: rows.length, counts, score: score(counts) };
}

/** summary.json: the score overall, per project, per file and per operator. */
export function mutationSummary(runId: string, projects: readonly ProjectReport[]) {
  const rows = projects.flatMap((p) => p.rows);
  const all = group(rows);
  const byKey = <K extends string>(key: (r: ProjectReport['rows'][number], p: ProjectReport) => K) => {
    const map = new Map<K, ProjectReport['rows']>();
    for (const p of projects) for (const r of p.rows) map.set(key(r, p), [...(map.get(key(r, p)) ?? []), r]);
    return [...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  };
  return {
    runId,
    kind: 'mutation',
    mutants: all.mutants,
    counts: all.counts,
    score: all.score,
    scoreCovered: coveredScore(all.counts),
    projects: projects.map((p) => ({
      project: p.id,
      status: p.status,
      ...(p.error ? { error: p.error } : {}),
      ...(p.result?.baseline ? { baseline: p.result.baseline } : {}),
      generated: p.mutants?.generated ?? 0,
      ...group(p.rows),
      skipped: p.mutants?.skipped ?? {},
    })),
    perFile: byKey((r, p) => `${p.id}\u0000${r.mutant.file}`).map(([key, rs]) => {
      const [project, file] = key.split('\u0000');
      return { project, file, ...group(rs) };
    }),
    perOperator: byKey((r) => r.mutant.operator).map(([operator, rs]) => ({
      operator,
      name: rs[0]?.mutant.mutatorName ?? operator,
      ...group(rs),
    })),
  };
}
export type MutationSummary = ReturnType<typeof mutationSummary>;

/** Every mutant on one line: where, what, and what became of it. */
function mutantLines(projects: readonly ProjectReport[]) {
  return projects.flatMap((p) =>
    p.rows.map(({ mutant: m, outcome: o }) => ({
      project: p.id,
      id: m.id,
      file: m.file,
      line: m.location.start.line,
      column: m.location.start.column,
      operator: m.operator,
      mutatorName: m.mutatorName,
      original: m.original,
      replacement: m.replacement,
      status: o.status,
      ...(o.killedBy ? { killedBy: o.killedBy } : {}),
      ...(o.testsRun !== undefined ? { testsRun: o.testsRun } : {}),
      ...(o.durationMs !== undefined ? { durationMs: Math.round(o.durationMs * 10) / 10 } : {}),
      ...(o.reason ? { reason: o.reason } : {}),
    })),
  );
}

/**
 * The run's reports: summary.json, mutants.jsonl, mutation-report.json (Stryker's schema, validated) and
 * mutation-report.html (mutation-testing-elements, offline).
 */
export async function mutationReport(ctx: ReportContext<MutationResult>): Promise<Record<string, string>> {
  const { record, store } = ctx;
  const projects = await collectProjects(ctx.results, store);
  const key = (name: string) => runKeys.report(record.runId, name);
  const stryker = strykerReport(projects);
  const problems = strykerProblems(stryker);
  // The schema is the package's: a report it rejects is our bug, worth failing the reports over.
  if (problems.length > 0)
    throw new Error(`mutation-report.json breaks the schema: ${problems.slice(0, 5).join('; ')}`);
  await putJson(store, key('summary.json'), mutationSummary(record.runId, projects));
  await putJsonl(store, key('mutants.jsonl'), mutantLines(projects));
  await putJson(store, key('mutation-report.json'), stryker);
  await store.put(key('mutation-report.html'), await strykerHtml(stryker, `Mutation report ${record.runId}`), {
    contentType: 'text/html; charset=utf-8',
  });
  return {
    'summary.json': key('summary.json'),
    'mutants.jsonl': key('mutants.jsonl'),
    'mutation-report.json': key('mutation-report.json'),
    'mutation-report.html': key('mutation-report.html'),
  };
}
