// The solve kind's sections of report.html: scores per model and category, cost against pass@1,
// latency and token distributions, verdicts, the model × task matrix and the failure patterns.
import type { ChartSpec, ReportPart, ReportSection } from '../../report/index.js';
import { resultRowSchema, summarize, type ModelSummary, type Summary } from '../../scoring/index.js';
import type { HtmlReportContext } from '../../workflow/index.js';
import { sampleDetails } from './html-details.js';
import { failureSections, taskSection } from './html-tasks.js';
import type { SolveResult } from './result.js';

const percent = (v: number | null | undefined) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10);
const pctText = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
const passAt = (m: ModelSummary, k: number) => m.passAtK.find((p) => p.k === k)?.value ?? null;

/** The k values worth a bar: 1, 2, 5, 10, ... up to the largest, and the largest itself. */
function shownKs(summary: Summary): number[] {
  const maxK = Math.max(1, ...summary.models.flatMap((m) => m.passAtK.map((p) => p.k)));
  return [...new Set([1, 2, 5, 10, 20, 50, 100].filter((k) => k < maxK).concat(maxK))];
}

function modelsSection(summary: Summary): ReportSection {
  const ks = shownKs(summary);
  const models = summary.models.map((m) => m.model);
  return {
    id: 'models',
    title: 'Models',
    intro:
      'pass@k is the unbiased estimator over tasks with at least k scored samples; dead-lettered, budget-stopped and infrastructure failures are not scored.',
    blocks: [
      {
        type: 'table',
        columns: [
          'model',
          'samples',
          ...ks.map((k) => `pass@${k}`),
          'solved',
          'no code',
          'syntax error',
          'p50 latency ms',
          'tokens in / out',
          'cost $',
          '$ / solved',
        ],
        rows: summary.models.map((m) => [
          { text: m.model, mono: true },
          m.samples,
          ...ks.map((k) => pctText(passAt(m, k))),
          `${m.solvedTasks}/${m.tasks}`,
          pctText(m.noCodeRate),
          pctText(m.syntaxErrorRate),
          m.latencyMs ? Math.round(m.latencyMs.p50) : '-',
          `${m.tokens.prompt} / ${m.tokens.completion}`,
          m.costUsd.toFixed(4),
          m.costPerSolvedTask === null ? '-' : m.costPerSolvedTask.toFixed(4),
        ]),
      },
      {
        type: 'chart',
        title: 'pass@k per model (%)',
        chart: {
          kind: 'bar',
          labels: models,
          series: ks.map((k) => ({ name: `pass@${k}`, values: summary.models.map((m) => percent(passAt(m, k))) })),
          yTitle: '%',
          max: 100,
        },
      },
      {
        type: 'chart',
        title: 'Verdicts per model',
        chart: verdictChart(summary),
      },
    ],
  };
}

// Verdicts keep their colour on every page: green passes, reds and oranges fail, greys are not scored.
const verdictColors: Record<string, string> = {
  passed: '#59a14f',
  failed: '#e15759',
  error: '#f28e2b',
  timeout: '#b07aa1',
  oom: '#9c755f',
  no_code: '#bab0ac',
  syntax_error: '#edc948',
  infra_error: '#4e4e4e',
  budget_exhausted: '#d4d4d4',
  dead_lettered: '#7f7f7f',
};

function verdictChart(summary: Summary): ChartSpec {
  const present = [
    ...new Set(
      summary.models.flatMap((m) =>
        Object.entries(m.verdicts)
          .filter(([, n]) => n > 0)
          .map(([v]) => v),
      ),
    ),
  ];
  return {
    kind: 'bar',
    labels: summary.models.map((m) => m.model),
    series: present.map((v) => ({
      name: v,
      values: summary.models.map((m) => m.verdicts[v as keyof ModelSummary['verdicts']] ?? 0),
      ...(verdictColors[v] ? { color: verdictColors[v] } : {}),
    })),
    stacked: true,
    yTitle: 'samples',
  };
}

function categorySection(summary: Summary): ReportSection {
  const categories = [...new Set(summary.models.flatMap((m) => m.categories.map((c) => c.category)))].sort();
  return {
    id: 'categories',
    title: 'Categories',
    blocks: [
      {
        type: 'chart',
        title: 'pass@1 per category (%)',
        chart: {
          kind: 'bar',
          labels: categories,
          series: summary.models.map((m) => ({
            name: m.model,
            values: categories.map((c) => percent(m.categories.find((x) => x.category === c)?.passAt1)),
          })),
          yTitle: '%',
          max: 100,
          horizontal: categories.length > 8,
        },
        height: Math.max(280, categories.length > 8 ? categories.length * 22 : 0),
      },
    ],
  };
}

function costSection(summary: Summary): ReportSection {
  return {
    id: 'cost',
    title: 'Cost',
    blocks: [
      {
        type: 'chart',
        title: 'Cost against pass@1 (each point a model)',
        chart: {
          kind: 'scatter',
          series: summary.models.map((m) => ({
            name: m.model,
            points: [{ x: m.costUsd, y: percent(passAt(m, 1)) ?? 0 }],
          })),
          xTitle: 'cost of the run, $',
          yTitle: 'pass@1, %',
          max: 100,
        },
      },
      {
        type: 'chart',
        title: 'Cost per solved task ($)',
        chart: {
          kind: 'bar',
          labels: summary.models.map((m) => m.model),
          series: [{ name: '$ / solved task', values: summary.models.map((m) => m.costPerSolvedTask) }],
          yTitle: '$',
        },
      },
    ],
  };
}

/** Counts per model in equal-width bins over all models' values; undefined when nothing was measured. */
export function histogram(series: { name: string; values: number[] }[], title: string, unit: string, bins = 12) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (const v of s.values) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  }
  if (lo === Infinity) return undefined;
  const width = hi > lo ? (hi - lo) / bins : 1;
  const n = hi > lo ? bins : 1;
  const fmt = (v: number) => (Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : v.toFixed(1));
  const labels = Array.from({ length: n }, (_, i) => `${fmt(lo + i * width)}–${fmt(lo + (i + 1) * width)}`);
  const chart: ChartSpec = {
    kind: 'bar',
    labels,
    series: series.map((s) => {
      const counts = new Array<number>(n).fill(0);
      for (const v of s.values) counts[Math.min(n - 1, Math.floor((v - lo) / width))]! += 1;
      return { name: s.name, values: counts };
    }),
    xTitle: unit,
    yTitle: 'samples',
  };
  return { type: 'chart' as const, title, chart };
}

function distributionSection(results: HtmlReportContext<SolveResult>['results'], models: string[]): ReportSection {
  const per = (pick: (r: SolveResult) => number | undefined) =>
    models.map((model) => ({
      name: model,
      values: results
        .filter((r) => r.result.model === model)
        .map((r) => pick(r.result))
        .filter((v): v is number => v !== undefined),
    }));
  const blocks = [
    histogram(
      per((r) => (r.cached || r.verdict === 'budget_exhausted' ? undefined : r.latencyMs)),
      'LLM latency (calls not answered from the cache)',
      'ms',
    ),
    histogram(
      per((r) => (r.completionTokens ? r.completionTokens : undefined)),
      'Completion tokens per sample',
      'tokens',
    ),
    histogram(
      per((r) => (r.promptTokens ? r.promptTokens : undefined)),
      'Prompt tokens per sample',
      'tokens',
    ),
    histogram(
      per((r) => r.durationMs),
      'Sandbox time per sample',
      'ms',
    ),
  ].filter((b) => b !== undefined);
  return { id: 'distributions', title: 'Latency and tokens', blocks };
}

/** The `html` hook of the solve kind. */
export async function solveHtml(ctx: HtmlReportContext<SolveResult>): Promise<ReportPart> {
  const { record, results, store } = ctx;
  const rows = results.map((r) => resultRowSchema.parse({ runId: record.runId, ...r.result }));
  const summary = summarize(rows);
  const models = summary.models.map((m) => m.model);
  const { details, notes } = await sampleDetails(store, record.runId, results);
  const pick = (ids: readonly string[]) => ids.filter((id) => Object.hasOwn(details, id)).slice(0, 50);
  return {
    sections: [
      modelsSection(summary),
      categorySection(summary),
      costSection(summary),
      distributionSection(results, models),
      taskSection(results, models, pick),
      ...failureSections(results, models, record.spec['judgeModel'], pick),
    ],
    details,
    notes,
  };
}
