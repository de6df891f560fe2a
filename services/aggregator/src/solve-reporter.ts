import { parseSamples, sampleResultLine } from '@evalfleet/shared/datasets';
import { runKeys } from '@evalfleet/shared/runs';
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
} from '@evalfleet/shared/scoring';
import { putJson, type ArtifactStore } from '@evalfleet/shared/storage';
import type { StoredResult } from '@evalfleet/shared/runs';
import type { Reporter } from './reporters.js';

function toRow(runId: string, r: StoredResult): ResultRow {
  return resultRowSchema.parse({ runId, ...r.result, jobId: r.jobId });
}

const orderRows = (a: ResultRow, b: ResultRow) =>
  naturalCompare(a.model, b.model) || naturalCompare(a.taskId, b.taskId) || a.sampleIndex - b.sampleIndex;

async function writeSamplesResults(
  store: ArtifactStore,
  runId: string,
  samplesKey: string,
  rows: StoredResult[],
): Promise<string> {
  const { samples } = parseSamples((await store.get(samplesKey)).toString('utf8'));
  const byLine = new Map<number, StoredResult>();
  for (const r of rows) {
    const line = r.result['sampleLine'];
    if (typeof line === 'number') byLine.set(line, r);
  }
  const lines = samples.map((s) => {
    const r = byLine.get(s.lineIndex);
    const result =
      typeof r?.result['humanEvalResult'] === 'string' ? r.result['humanEvalResult'] : 'failed: not evaluated';
    return sampleResultLine(s, { result, passed: r?.result['passed'] === true });
  });
  const key = runKeys.report(runId, 'samples_results.jsonl');
  await store.put(key, lines.join('\n') + (lines.length ? '\n' : ''), { contentType: 'application/x-ndjson' });
  return key;
}

/** The solve run's reports: results.jsonl, summary.json, comparison.json, per model/category JSONL and CSV. */
export const solveReporter: Reporter = async ({ record, results, store }) => {
  const runId = record.runId;
  const rows = results.map((r) => toRow(runId, r)).sort(orderRows);
  const reports: Record<string, string> = {};

  const resultsKey = runKeys.report(runId, 'results.jsonl');
  await store.put(resultsKey, rows.map((r) => JSON.stringify(r)).join('\n') + (rows.length ? '\n' : ''), {
    contentType: 'application/x-ndjson',
  });
  reports['results.jsonl'] = resultsKey;

  const summary = summarize(rows);
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
  });
  reports['summary.json'] = summaryKey;

  const comparisonKey = runKeys.report(runId, 'comparison.json');
  await putJson(store, comparisonKey, compare(rows));
  reports['comparison.json'] = comparisonKey;

  for (const group of groupByModelCategory(rows)) {
    const base = `by-model/${pathSegment(group.model)}/${pathSegment(group.category)}`;
    const jsonlKey = runKeys.report(runId, `${base}.jsonl`);
    const csvKey = runKeys.report(runId, `${base}.csv`);
    await store.put(jsonlKey, group.rows.map((r) => JSON.stringify(r)).join('\n') + '\n', {
      contentType: 'application/x-ndjson',
    });
    await store.put(csvKey, toCsv(group.rows, resultRowColumns), { contentType: 'text/csv' });
    reports[`${base}.jsonl`] = jsonlKey;
    reports[`${base}.csv`] = csvKey;
  }

  const samplesKey = record.meta['samplesKey'];
  if (typeof samplesKey === 'string')
    reports['samples_results.jsonl'] = await writeSamplesResults(store, runId, samplesKey, results);
  return reports;
};
