import { parseSamples, sampleResultLine } from '../../datasets/index.js';
import { runKeys } from '../../runs/index.js';
import {
  compare,
  groupByModelCategory,
  naturalCompare,
  pathSegment,
  resultRowColumns,
  resultRowSchema,
  summarize,
  toCsv,
  type ResultRow,
} from '../../scoring/index.js';
import { putJson, putJsonl, type ArtifactStore } from '../../storage/index.js';
import type { ReportContext, TypedResult } from '../../workflow/index.js';
import { evalplusSummary, sandboxImages } from './evalplus-summary.js';
import { judgementSummary, solveFailureClusters } from './failures.js';
import type { Judgement, SolveResult } from './result.js';

type Stored = TypedResult<SolveResult>;

type Row = ResultRow & Pick<SolveResult, 'evalplus' | 'sandboxImage'> & { judgement?: Judgement };

/** A result row; the judge's label, EvalPlus's statuses and the sandbox image ride along (results.jsonl keeps them). */
function toRow(runId: string, r: Stored): Row {
  const row: Row = resultRowSchema.parse({ runId, ...r.result });
  if (r.result.judgement) row.judgement = r.result.judgement;
  if (r.result.evalplus) row.evalplus = r.result.evalplus;
  if (r.result.sandboxImage) row.sandboxImage = r.result.sandboxImage;
  return row;
}

const orderRows = (a: ResultRow, b: ResultRow) =>
  naturalCompare(a.model, b.model) || naturalCompare(a.taskId, b.taskId) || a.sampleIndex - b.sampleIndex;

async function writeSamplesResults(
  store: ArtifactStore,
  runId: string,
  samplesKey: string,
  rows: Stored[],
): Promise<string> {
  const { samples } = parseSamples((await store.get(samplesKey)).toString('utf8'));
  const byLine = new Map<number, Stored>();
  for (const r of rows) {
    if (r.result.sampleLine !== undefined) byLine.set(r.result.sampleLine, r);
  }
  const lines = samples.map((s) => {
    const r = byLine.get(s.lineIndex);
    const result = r?.result.humanEvalResult ?? 'failed: not evaluated';
    const ep = r?.result.evalplus;
    // EvalPlus tasks: its own status words too (eval_results.json's base_status and plus_status).
    const statuses = ep ? { base_status: ep.base, plus_status: ep.plus } : {};
    return sampleResultLine(s, { result, passed: r?.result.passed === true, ...statuses });
  });
  const key = runKeys.report(runId, 'samples_results.jsonl');
  await store.put(key, lines.join('\n') + (lines.length ? '\n' : ''), { contentType: 'application/x-ndjson' });
  return key;
}

/** Dead-lettered jobs by stage and code, with the command that runs them again. */
function deadLetterSummary(results: readonly Stored[]) {
  const byStage: Record<string, Record<string, number>> = {};
  let count = 0;
  for (const r of results) {
    const d = r.result.deadLetter;
    if (!d) continue;
    count += 1;
    const stage = (byStage[d.stage] ??= {});
    stage[d.code] = (stage[d.code] ?? 0) + 1;
  }
  return {
    count,
    byStage,
    requeue: Object.keys(byStage)
      .sort()
      .map((stage) => `evalfleet dlq requeue ${stage}`),
  };
}

/** The solve run's reports: results.jsonl, summary.json, comparison.json, per model/category JSONL and CSV. */
export async function solveReport({
  record,
  results,
  store,
}: ReportContext<SolveResult>): Promise<Record<string, string>> {
  const runId = record.runId;
  const rows = results.map((r) => toRow(runId, r)).sort(orderRows);
  const reports: Record<string, string> = {};

  const resultsKey = runKeys.report(runId, 'results.jsonl');
  await putJsonl(store, resultsKey, rows);
  reports['results.jsonl'] = resultsKey;

  const summary = summarize(rows);
  const evalplus = evalplusSummary(rows);
  const summaryKey = runKeys.report(runId, 'summary.json');
  await putJson(store, summaryKey, {
    runId,
    kind: record.kind,
    createdAt: record.createdAt,
    completedAt: new Date().toISOString(),
    totalJobs: record.totalJobs,
    parameters: record.spec,
    dataset: {
      id: record.meta['datasetId'],
      format: record.meta['datasetFormat'],
      errors: record.meta['datasetErrors'],
    },
    ...summary,
    ...(evalplus ? { evalplus } : {}),
    sandboxImages: sandboxImages(results),
    deadLettered: deadLetterSummary(results),
    failureClusters: solveFailureClusters(results),
    ...(record.spec['judgeModel'] !== undefined
      ? { judgements: judgementSummary(results, record.spec['judgeModel']) }
      : {}),
  });
  reports['summary.json'] = summaryKey;

  const comparisonKey = runKeys.report(runId, 'comparison.json');
  await putJson(store, comparisonKey, compare(rows));
  reports['comparison.json'] = comparisonKey;

  for (const group of groupByModelCategory(rows)) {
    const base = `by-model/${pathSegment(group.model)}/${pathSegment(group.category)}`;
    const jsonlKey = runKeys.report(runId, `${base}.jsonl`);
    const csvKey = runKeys.report(runId, `${base}.csv`);
    await putJsonl(store, jsonlKey, group.rows);
    await store.put(csvKey, toCsv(group.rows, resultRowColumns), { contentType: 'text/csv' });
    reports[`${base}.jsonl`] = jsonlKey;
    reports[`${base}.csv`] = csvKey;
  }

  const samplesKey = record.meta['samplesKey'];
  if (typeof samplesKey === 'string')
    reports['samples_results.jsonl'] = await writeSamplesResults(store, runId, samplesKey, results);
  return reports;
}
