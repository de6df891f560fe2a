// The solve page's per-sample views: the model × task matrix, failure clusters and the judge's
// mistake categories. Cells and counts open the samples behind them (records keyed by job id).
import { clusterFailures, type Cell, type MatrixCell, type ReportSection } from '../../report/index.js';
import { naturalCompare, unscoredVerdicts } from '../../scoring/index.js';
import type { TypedResult } from '../../workflow/index.js';
import { isFailedSample, sampleSignature } from './failures.js';
import { mistakeCategories, UNJUDGED } from './judge.js';
import type { SolveResult } from './result.js';

type Stored = TypedResult<SolveResult>;

/**
 * The records a cell or count opens: only those embedded in the page, at most a few dozen, so the
 * references stay bounded however many samples a big run has.
 */
export type Pick = (jobIds: readonly string[]) => string[];

const bySample = (a: Stored, b: Stored) =>
  a.result.sampleIndex - b.result.sampleIndex || naturalCompare(a.jobId, b.jobId);

export function taskSection(results: readonly Stored[], models: string[], pick: Pick): ReportSection {
  const tasks = new Map<string, { category: string; cells: Map<string, Stored[]> }>();
  for (const r of results) {
    let task = tasks.get(r.result.taskId);
    if (!task) tasks.set(r.result.taskId, (task = { category: r.result.category, cells: new Map() }));
    const cell = task.cells.get(r.result.model);
    if (cell) cell.push(r);
    else task.cells.set(r.result.model, [r]);
  }
  const rows = [...tasks.entries()]
    .sort(([a], [b]) => naturalCompare(a, b))
    .map(([taskId, task]) => ({
      label: taskId,
      sub: task.category,
      cells: models.map((model): MatrixCell | null => {
        const samples = (task.cells.get(model) ?? []).sort(bySample);
        if (samples.length === 0) return null;
        const scored = samples.filter((s) => !unscoredVerdicts.has(s.result.verdict));
        const passed = scored.filter((s) => s.result.passed).length;
        const counts = new Map<string, number>();
        for (const s of samples) counts.set(s.result.verdict, (counts.get(s.result.verdict) ?? 0) + 1);
        const verdicts = [...counts].map(([v, n]) => `${v} ${n}`).join(', ');
        return {
          text: scored.length === 0 ? (samples[0]?.result.verdict ?? '-') : `${passed}/${scored.length}`,
          value: scored.length === 0 ? null : passed / scored.length,
          details: pick(samples.map((s) => s.jobId)),
          title: `${model} · ${taskId}: ${verdicts}`,
        };
      }),
    }));
  return {
    id: 'tasks',
    title: 'Tasks',
    intro:
      'Passed / scored samples of each task and model. Click a cell for its samples: code, verdict, test output and the LLM call.',
    blocks: [{ type: 'matrix', corner: 'task', columns: models, rows, filter: true }],
  };
}

const countCell = (n: number, ids: string[], title: string): Cell =>
  n === 0 ? '' : { text: String(n), details: ids, title };

export function failureSections(
  results: readonly Stored[],
  models: string[],
  judgeModel: unknown,
  pick: Pick,
): ReportSection[] {
  const failed = results.filter((r) => isFailedSample(r.result)).sort((a, b) => naturalCompare(a.jobId, b.jobId));
  const clusters = clusterFailures(
    failed.map((r) => ({ signature: sampleSignature(r.result), group: r.result.model, example: r })),
    Infinity,
  );
  const top = clusters.slice(0, 15);
  const short = (s: string) => (s.length > 70 ? `${s.slice(0, 69)}…` : s);
  const sections: ReportSection[] = [
    {
      id: 'failures',
      title: 'Failure clusters',
      intro: `${failed.length} failed samples in ${clusters.length} clusters. A cluster is one exception type, one message with its literals masked (numbers, strings, hex, paths) and one failing test. Click a signature or a count for its samples.`,
      blocks: [
        ...(top.length > 0
          ? [
              {
                type: 'chart' as const,
                title: `Largest ${top.length} clusters by model`,
                chart: {
                  kind: 'bar' as const,
                  labels: top.map((c) => short(c.key)),
                  series: models.map((m) => ({ name: m, values: top.map((c) => c.byGroup[m] ?? 0) })),
                  stacked: true,
                  horizontal: true,
                  yTitle: 'samples',
                },
                height: Math.max(240, top.length * 28),
                wide: true,
              },
            ]
          : []),
        {
          type: 'table',
          title: 'Clusters',
          columns: ['signature', 'samples', ...models],
          rows: clusters.map((c) => [
            { text: c.key, mono: true, details: pick(c.examples.map((r) => r.jobId)), title: c.key },
            c.count,
            ...models.map((m) => {
              const ids = c.examples.filter((r) => r.result.model === m).map((r) => r.jobId);
              return countCell(ids.length, pick(ids), `${m}: ${c.key}`);
            }),
          ]),
          filter: true,
        },
      ],
    },
  ];
  if (typeof judgeModel === 'string') sections.push(judgeSection(failed, models, judgeModel, pick));
  return sections;
}

function judgeSection(failed: readonly Stored[], models: string[], judgeModel: string, pick: Pick): ReportSection {
  const known = Object.keys(mistakeCategories);
  const seen = new Set(failed.flatMap((r) => (r.result.judgement ? [r.result.judgement.category] : [])));
  const categories = [...known.filter((c) => seen.has(c)), ...[...seen].filter((c) => !known.includes(c)).sort()];
  const ids = (model: string, category: string) =>
    failed.filter((r) => r.result.model === model && r.result.judgement?.category === category).map((r) => r.jobId);
  const unlabelled = failed.filter((r) => !r.result.judgement).length;
  return {
    id: 'judge',
    title: `Mistakes named by the judge (${judgeModel})`,
    intro: `Each failed sample that reached the sandbox is labelled with one mistake category${unlabelled ? `; ${unlabelled} failed samples had no code to judge` : ''}. ${UNJUDGED}: the judge gave no usable answer. Click a count for the samples and the judge's explanations.`,
    blocks: [
      {
        type: 'chart',
        title: 'Mistake categories per model',
        chart: {
          kind: 'bar',
          labels: models,
          series: categories.map((c) => ({ name: c, values: models.map((m) => ids(m, c).length) })),
          stacked: true,
          yTitle: 'samples',
        },
      },
      {
        type: 'table',
        title: 'Categories',
        columns: ['category', 'meaning', ...models],
        rows: categories.map((c) => [
          { text: c, mono: true },
          c in mistakeCategories ? mistakeCategories[c as keyof typeof mistakeCategories] : '',
          ...models.map((m) => {
            const list = ids(m, c);
            return countCell(list.length, pick(list), `${m}: ${c}`);
          }),
        ]),
      },
    ],
  };
}
