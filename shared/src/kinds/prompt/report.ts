import { runKeys } from '../../runs/index.js';
import { naturalCompare, toCsv } from '../../scoring/index.js';
import { putJson, putJsonl } from '../../storage/index.js';
import type { ReportContext, TypedResult } from '../../workflow/index.js';
import { loadRun } from './expand.js';
import { promptSpecSchema, stageOutcomes, type PromptResult, type StageRecord } from './messages.js';
import { scalarFields, type PromptStage } from './pipeline.js';
import { selectRecords } from './records.js';

type Stored = TypedResult<PromptResult>;

/** Every outcome a stage row can have: the stage's own, a dead letter, or never reached (after one). */
export const reportOutcomes = [...stageOutcomes, 'dead_lettered', 'not_run'] as const;
type ReportOutcome = (typeof reportOutcomes)[number];

const round = (usd: number) => Math.round(usd * 1e10) / 1e10;

export type StageSummary = {
  name: string;
  model: string;
  when: string | null;
  outcomes: Record<ReportOutcome, number>;
  tries: number;
  calls: number;
  cached: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
};

export type PromptSummary = {
  runId: string;
  kind: string;
  pipeline: string | null;
  createdAt: string;
  completedAt: string;
  totalJobs: number;
  records: number;
  parameters: Record<string, unknown>;
  stages: StageSummary[];
  /** Provider calls this run made (malformed replies included) and answers the cache served. */
  calls: number;
  cached: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  /** Records whose every stage answered or was skipped, the others, and dead-lettered ones. */
  jobs: { complete: number; incomplete: number; dead_lettered: number };
  deadLettered: { count: number; byStage: Record<string, Record<string, number>>; requeue: string[] };
};

/** A stage without a record: the one a dead-lettered job died in, or one it never reached. */
export function missingOutcome(r: PromptResult, stages: readonly PromptStage[], name: string): ReportOutcome {
  if (!r.deadLetter) return 'not_run';
  return stages.find((s) => !r.stages[s.name])?.name === name ? 'dead_lettered' : 'not_run';
}

function stageRow(r: PromptResult, stages: readonly PromptStage[], name: string) {
  const rec: StageRecord | undefined = r.stages[name];
  if (!rec) return { id: r.id, outcome: missingOutcome(r, stages, name), answer: null };
  return { id: r.id, ...rec, answer: rec.answer ?? null };
}

export function summarizeStage(
  stage: PromptStage,
  stages: readonly PromptStage[],
  results: readonly Stored[],
): StageSummary {
  const outcomes = Object.fromEntries(reportOutcomes.map((o) => [o, 0])) as Record<ReportOutcome, number>;
  const s: StageSummary = {
    name: stage.name,
    model: stage.model,
    when: stage.when ?? null,
    outcomes,
    tries: 0,
    calls: 0,
    cached: 0,
    promptTokens: 0,
    completionTokens: 0,
    costUsd: 0,
  };
  for (const r of results) {
    const rec = r.result.stages[stage.name];
    if (!rec) {
      outcomes[missingOutcome(r.result, stages, stage.name)] += 1;
      continue;
    }
    outcomes[rec.outcome] += 1;
    s.tries += rec.tries;
    s.calls += rec.calls;
    s.cached += rec.cached;
    s.promptTokens += rec.promptTokens;
    s.completionTokens += rec.completionTokens;
    s.costUsd += rec.costUsd;
  }
  s.costUsd = round(s.costUsd);
  return s;
}

function deadLetterSummary(results: readonly Stored[]): PromptSummary['deadLettered'] {
  const byStage: Record<string, Record<string, number>> = {};
  let count = 0;
  for (const r of results) {
    const d = r.result.deadLetter;
    if (!d) continue;
    count += 1;
    const stage = (byStage[d.stage] ??= {});
    stage[d.code] = (stage[d.code] ?? 0) + 1;
  }
  return { count, byStage, requeue: Object.keys(byStage).map((s) => `evalfleet dlq requeue ${s}`) };
}

/**
 * The prompt run's reports: per-stage JSONL (`stages/<stage>.jsonl`), `merged.jsonl` (each record
 * with `stages: {name: answer | null}`), `results.csv` (the answers' scalar fields) and
 * `summary.json` (per-stage counts by outcome, tokens, cost; calls made and answers cached).
 */
export async function promptReport({ record, results, store }: ReportContext<PromptResult>) {
  const runId = record.runId;
  const spec = promptSpecSchema.parse(record.spec);
  const { pipeline, records } = await loadRun(store, spec);
  const byId = new Map(results.map((r) => [r.result.id, r]));
  // Rows follow the records file; a result for a record no longer selected still gets its row.
  const inFile = selectRecords(records, spec.limit).filter((r) => byId.has(r.id));
  const fileIds = new Set(inFile.map((r) => r.id));
  const extra = results
    .filter((r) => !fileIds.has(r.result.id))
    .sort((a, b) => naturalCompare(a.result.id, b.result.id));
  const rows = [
    ...inFile.map((r) => ({ id: r.id, data: r.data, result: byId.get(r.id)! })),
    ...extra.map((r) => ({ id: r.result.id, data: { [spec.idField]: r.result.id }, result: r })),
  ];
  const reports: Record<string, string> = {};
  const put = async (name: string, write: (key: string) => Promise<unknown>) => {
    const key = runKeys.report(runId, name);
    await write(key);
    reports[name] = key;
  };

  for (const stage of pipeline.stages) {
    await put(`stages/${stage.name}.jsonl`, (key) =>
      putJsonl(
        store,
        key,
        rows.map((row) => stageRow({ ...row.result.result, id: row.id }, pipeline.stages, stage.name)),
      ),
    );
  }
  const answersOf = (r: Stored) =>
    Object.fromEntries(pipeline.stages.map((s) => [s.name, r.result.stages[s.name]?.answer ?? null]));
  await put('merged.jsonl', (key) =>
    putJsonl(
      store,
      key,
      rows.map((row) => ({ ...row.data, stages: answersOf(row.result) })),
    ),
  );

  const columns = ['id'];
  for (const s of pipeline.stages)
    columns.push(`${s.name}.outcome`, ...scalarFields(s.schema).map((f) => `${s.name}.${f}`));
  const csvRows = rows.map((row) => {
    const cells: Record<string, unknown> = { id: row.id };
    for (const s of pipeline.stages) {
      const rec = row.result.result.stages[s.name];
      cells[`${s.name}.outcome`] = rec?.outcome ?? missingOutcome(row.result.result, pipeline.stages, s.name);
      const answer = rec?.answer;
      for (const f of scalarFields(s.schema))
        cells[`${s.name}.${f}`] =
          typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>)[f] : undefined;
    }
    return cells;
  });
  await put('results.csv', (key) => store.put(key, toCsv(csvRows, columns), { contentType: 'text/csv' }));

  const stages = pipeline.stages.map((s) => summarizeStage(s, pipeline.stages, results));
  const sum = (f: (s: StageSummary) => number) => stages.reduce((n, s) => n + f(s), 0);
  const isComplete = (r: Stored) =>
    !r.result.deadLetter &&
    pipeline.stages.every((s) => ['ok', 'skipped'].includes(r.result.stages[s.name]?.outcome ?? 'not_run'));
  const dead = results.filter((r) => r.result.deadLetter).length;
  const complete = results.filter(isComplete).length;
  const summary: PromptSummary = {
    runId,
    kind: record.kind,
    pipeline: pipeline.name ?? null,
    createdAt: record.createdAt,
    completedAt: new Date().toISOString(),
    totalJobs: record.totalJobs,
    records: rows.length,
    parameters: record.spec,
    stages,
    calls: sum((s) => s.calls),
    cached: sum((s) => s.cached),
    promptTokens: sum((s) => s.promptTokens),
    completionTokens: sum((s) => s.completionTokens),
    costUsd: round(sum((s) => s.costUsd)),
    jobs: { complete, incomplete: results.length - complete - dead, dead_lettered: dead },
    deadLettered: deadLetterSummary(results),
  };
  await put('summary.json', (key) => putJson(store, key, summary, { pretty: true }));
  return reports;
}
