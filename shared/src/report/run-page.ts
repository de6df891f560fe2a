import { runKeys } from '../runs/keys.js';
import type { RunRecord, StoredResult } from '../runs/record.js';
import type { ArtifactStore } from '../storage/index.js';
import { clip } from './clip.js';
import type { ReportPart, ReportSection } from './model.js';
import { renderReportPage } from './page.js';

export const reportHtmlName = 'report.html';

export type RunPageInput = {
  record: RunRecord;
  results: readonly StoredResult[];
  /** The run's other report files, name → key (linked from the page). */
  reports: Record<string, string>;
  /** The kind's sections (its `html` hook); empty for a kind without one. */
  part: ReportPart;
};

/** What every run's page starts with, whatever its kind: the run, its jobs by outcome, its files. */
export function runOverview({ record, results, reports }: RunPageInput): ReportSection {
  const outcomes = new Map<string, number>();
  for (const r of results) outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
  const labels = [...outcomes.keys()].sort();
  const prefix = runKeys.prefix(record.runId);
  const files = Object.entries(reports)
    .filter(([name]) => name !== reportHtmlName)
    .sort(([a], [b]) => (a < b ? -1 : 1));
  const parameters = clip(JSON.stringify(record.spec), 2000);
  return {
    id: 'run',
    title: 'Run',
    blocks: [
      {
        type: 'table',
        columns: ['', ''],
        rows: [
          ['run', record.runId],
          ['kind', record.kind],
          ['created', record.createdAt],
          ['jobs with a result', `${results.length} of ${record.totalJobs}`],
          ...(record.skippedJobs > 0 ? [['skipped on resume (done before)', String(record.skippedJobs)]] : []),
          ['parameters', { text: parameters.text, mono: true }],
        ],
      },
      {
        type: 'chart',
        title: 'Jobs by outcome',
        chart: { kind: 'bar', labels, series: [{ name: 'jobs', values: labels.map((l) => outcomes.get(l) ?? 0) }] },
        height: 220,
      },
      ...(files.length > 0
        ? [
            {
              type: 'links' as const,
              title: 'Report files (links work beside the run’s files, e.g. after evalfleet report RUN --out DIR)',
              items: files.map(([name, key]) => ({
                label: name,
                href: key.startsWith(prefix) ? key.slice(prefix.length) : key,
              })),
            },
          ]
        : []),
    ],
  };
}

/** The run's page: the overview, then the kind's sections. */
export async function renderRunPage(input: RunPageInput, now: Date = new Date()): Promise<string> {
  const { record, results, part } = input;
  return renderReportPage({
    title: `${record.kind} run ${record.runId}`,
    subtitle: `created ${record.createdAt} · ${results.length} of ${record.totalJobs} jobs have a result · page written ${now.toISOString()}`,
    notes: part.notes ?? [],
    sections: [runOverview(input), ...part.sections],
    details: part.details ?? {},
  });
}

/** Writes `report.html` beside the run's other reports; returns its key. */
export async function writeRunPage(store: ArtifactStore, input: RunPageInput): Promise<string> {
  const key = runKeys.report(input.record.runId, reportHtmlName);
  await store.put(key, await renderRunPage(input), { contentType: 'text/html; charset=utf-8' });
  return key;
}
