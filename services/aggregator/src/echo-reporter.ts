import { runKeys } from '@evalfleet/shared/runs';
import { putJson, putJsonl } from '@evalfleet/shared/storage';
import type { Reporter } from './reporters.js';

/** The smoke kind's report: every job once, and the counts. */
export const echoReporter: Reporter = async ({ record, results, store }) => {
  const rows = results
    .map((r) => ({ jobId: r.jobId, outcome: r.outcome, ...r.result }))
    .sort((a, b) => a.jobId.localeCompare(b.jobId, 'en', { numeric: true }));
  const outcomes: Record<string, number> = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  const resultsKey = runKeys.report(record.runId, 'results.jsonl');
  const summaryKey = runKeys.report(record.runId, 'summary.json');
  await putJsonl(store, resultsKey, rows);
  await putJson(store, summaryKey, {
    runId: record.runId,
    kind: record.kind,
    totalJobs: record.totalJobs,
    results: results.length,
    outcomes,
  });
  return { 'results.jsonl': resultsKey, 'summary.json': summaryKey };
};
