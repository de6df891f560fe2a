// The prompt kind's sections of report.html: outcomes per pipeline stage, how the answers' scalar
// fields are distributed (a classification at a glance), and every record with its answers as
// drill-down records.
import { clip, type Block, type Cell, type Detail, type ReportPart, type Tone } from '../../report/index.js';
import type { HtmlReportContext } from '../../workflow/index.js';
import { loadRun } from './expand.js';
import { promptSpecSchema, type PromptResult } from './messages.js';
import { scalarFields, type PromptStage } from './pipeline.js';
import { missingOutcome, reportOutcomes, summarizeStage } from './report.js';

/** Records listed on the page at most; the rest are in merged.jsonl. */
const maxRecords = 1000;
/** Distinct values a field may have to get a chart (booleans, enums, small categories). */
const maxValues = 12;

const tones: Record<string, Tone> = {
  ok: 'good',
  skipped: 'muted',
  not_run: 'muted',
  invalid_answer: 'bad',
  malformed: 'bad',
  dead_lettered: 'bad',
  budget_exhausted: 'warn',
};

const json = (v: unknown) => clip(JSON.stringify(v, null, 2) ?? 'null', 4000);

/** One chart per scalar field whose answers take a few distinct values. */
function answerCharts(stage: PromptStage, results: HtmlReportContext<PromptResult>['results']): Block[] {
  const blocks: Block[] = [];
  for (const field of scalarFields(stage.schema)) {
    const counts = new Map<string, number>();
    for (const r of results) {
      const answer = r.result.stages[stage.name]?.answer;
      if (typeof answer !== 'object' || answer === null) continue;
      const value = (answer as Record<string, unknown>)[field];
      // Numbers spread too widely for a bar per value; objects are not scalar fields.
      if (typeof value !== 'string' && typeof value !== 'boolean' && value !== null) continue;
      const label = String(value);
      counts.set(label, (counts.get(label) ?? 0) + 1);
    }
    if (counts.size === 0 || counts.size > maxValues) continue;
    const labels = [...counts.keys()].sort();
    blocks.push({
      type: 'chart',
      title: `${stage.name}.${field}`,
      chart: { kind: 'bar', labels, series: [{ name: 'answers', values: labels.map((l) => counts.get(l) ?? 0) }] },
    });
  }
  return blocks;
}

function recordDetail(id: string, data: unknown, result: PromptResult, stages: readonly PromptStage[]): Detail {
  const fields: Detail['fields'] = [{ label: 'record', kind: 'code', ...json(data) }];
  for (const s of stages) {
    const rec = result.stages[s.name];
    const outcome = rec?.outcome ?? missingOutcome(result, stages, s.name);
    const usage = rec
      ? `, ${rec.tries} tries, ${rec.calls} calls, ${rec.cached} cached, $${rec.costUsd.toFixed(6)}`
      : '';
    fields.push({ label: `${s.name}: ${outcome}${usage}`, kind: 'code', ...json(rec?.answer ?? null) });
    if (rec?.reason) fields.push({ label: `${s.name}: why`, text: [rec.reason, ...(rec.errors ?? [])].join('\n') });
  }
  if (result.deadLetter)
    fields.push({
      label: 'dead letter',
      text: `${result.deadLetter.code} on ${result.deadLetter.stage}: ${result.deadLetter.message}`,
    });
  return { title: `record ${id}`, fields };
}

/** The prompt run's page sections (after the run overview). */
export async function promptHtml({ record, results, store }: HtmlReportContext<PromptResult>): Promise<ReportPart> {
  const spec = promptSpecSchema.parse(record.spec);
  const { pipeline, records } = await loadRun(store, spec);
  const stages = pipeline.stages;
  const summaries = stages.map((s) => summarizeStage(s, stages, results));
  const shown = reportOutcomes.filter((o) => summaries.some((s) => s.outcomes[o] > 0));

  const stageBlocks: Block[] = [
    {
      type: 'table',
      columns: ['stage', 'model', 'when', ...shown, 'tries', 'calls', 'cached', 'tokens in / out', 'cost $'],
      rows: summaries.map((s) => [
        { text: s.name, mono: true },
        s.model,
        s.when ?? '-',
        ...shown.map((o) => s.outcomes[o]),
        s.tries,
        s.calls,
        s.cached,
        `${s.promptTokens} / ${s.completionTokens}`,
        s.costUsd.toFixed(4),
      ]),
    },
    {
      type: 'chart',
      title: 'Outcomes per stage',
      chart: {
        kind: 'bar',
        labels: summaries.map((s) => s.name),
        series: shown.map((o) => ({ name: o, values: summaries.map((s) => s.outcomes[o]) })),
        stacked: true,
        yTitle: 'records',
      },
    },
  ];

  const dataById = new Map(records.map((r) => [r.id, r.data]));
  const listed = [...results].sort((a, b) => a.result.id.localeCompare(b.result.id, 'en', { numeric: true }));
  const details: Record<string, Detail> = {};
  const rows: Cell[][] = listed.slice(0, maxRecords).map((r) => {
    const detailId = `record:${r.result.id}`;
    details[detailId] = recordDetail(r.result.id, dataById.get(r.result.id) ?? null, r.result, stages);
    return [
      { text: r.result.id, mono: true, details: [detailId] },
      ...stages.map((s): Cell => {
        const outcome = r.result.stages[s.name]?.outcome ?? missingOutcome(r.result, stages, s.name);
        return { text: outcome, details: [detailId], tone: tones[outcome] ?? 'muted' };
      }),
    ];
  });

  return {
    sections: [
      { id: 'stages', title: 'Pipeline stages', blocks: stageBlocks },
      {
        id: 'answers',
        title: 'Answers',
        intro: 'Values of the answers’ boolean and categorical fields (numbers and free text are in results.csv).',
        blocks: stages.flatMap((s) => answerCharts(s, results)),
      },
      {
        id: 'records',
        title: 'Records',
        intro: 'Click a record for its fields, each stage’s answer and why a stage failed or was skipped.',
        blocks: [{ type: 'table', columns: ['id', ...stages.map((s) => s.name)], rows, filter: true }],
      },
    ],
    details,
    ...(listed.length > maxRecords
      ? { notes: [`The first ${maxRecords} of ${listed.length} records are listed; merged.jsonl has them all.`] }
      : {}),
  };
}
