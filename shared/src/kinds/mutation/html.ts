import { clip } from '../../report/clip.js';
import type { Cell, Detail, ReportPart } from '../../report/model.js';
import type { HtmlReportContext } from '../../workflow/index.js';
import { collectProjects } from './collect.js';
import { mutantDiff } from './diff.js';
import { mutationSummary } from './report.js';
import type { MutationResult } from './result.js';

/** Survivors embedded with their diff at most (the full list is in mutants.jsonl and the Stryker page). */
const MAX_SURVIVORS = 200;

const pct = (v: number | null) => (v === null ? '—' : `${v.toFixed(1)} %`);

/** report.html: the score per project, file and operator, survivors with their diffs, and a link to the Stryker page. */
export async function mutationHtml(ctx: HtmlReportContext<MutationResult>): Promise<ReportPart> {
  const projects = await collectProjects(ctx.results, ctx.store);
  const summary = mutationSummary(ctx.record.runId, projects);
  const details: Record<string, Detail> = {};
  const survivors: Cell[][] = [];
  for (const p of projects) {
    for (const { mutant: m, outcome: o } of p.rows) {
      if (o.status !== 'survived' || survivors.length >= MAX_SURVIVORS) continue;
      const id = `mutant:${p.id}:${m.id}`;
      const source = p.project?.files[m.file] ?? '';
      details[id] = {
        title: `${p.id} mutant ${m.id} (${m.mutatorName})`,
        fields: [
          { label: 'Diff', ...clip(mutantDiff(source, m), 4000), kind: 'code' },
          { label: 'Reached by', text: String(p.plan?.covered[m.id]?.length ?? 0) + ' tests' },
        ],
      };
      survivors.push([
        { text: `${p.id}:${m.id}`, details: [id], mono: true },
        `${m.file}:${m.location.start.line}`,
        m.mutatorName,
        { text: `${clip(m.original, 60).text} → ${clip(m.replacement, 60).text}`, mono: true },
      ]);
    }
  }
  const links = ctx.reports['mutation-report.html']
    ? [
        {
          type: 'links' as const,
          items: [{ label: 'Stryker report (mutation-report.html)', href: 'mutation-report.html' }],
        },
      ]
    : [];
  const failed = summary.projects.filter((p) => p.status !== 'tested');
  return {
    sections: [
      {
        id: 'mutation',
        title: 'Mutation score',
        intro:
          `${summary.mutants} mutants: score ${pct(summary.score)} (killed or timed out over all valid mutants), ` +
          `${pct(summary.scoreCovered)} over the mutants some test reaches.`,
        blocks: [
          ...links,
          {
            type: 'table',
            title: 'Score per file',
            columns: [
              'project',
              'file',
              'mutants',
              'killed',
              'survived',
              'timeout',
              'no coverage',
              'incompetent',
              'score',
            ],
            rows: summary.perFile.map((f) => [
              f.project ?? '',
              { text: f.file ?? '', mono: true },
              f.mutants,
              f.counts.killed,
              f.counts.survived,
              f.counts.timeout,
              f.counts.no_coverage,
              f.counts.incompetent,
              {
                text: pct(f.score),
                tone: f.score === null ? 'muted' : f.score >= 80 ? 'good' : f.score >= 60 ? 'warn' : 'bad',
              },
            ]),
            filter: true,
          },
          {
            type: 'chart',
            title: 'Mutants per operator',
            chart: {
              kind: 'bar',
              stacked: true,
              horizontal: true,
              labels: summary.perOperator.map((o) => o.name),
              series: [
                {
                  name: 'killed',
                  values: summary.perOperator.map((o) => o.counts.killed + o.counts.timeout),
                  color: '#2e7d32',
                },
                { name: 'survived', values: summary.perOperator.map((o) => o.counts.survived), color: '#c62828' },
                { name: 'no coverage', values: summary.perOperator.map((o) => o.counts.no_coverage), color: '#9e9e9e' },
              ],
            },
          },
          ...(survivors.length > 0
            ? [
                {
                  type: 'table' as const,
                  title: 'Surviving mutants',
                  columns: ['mutant', 'where', 'operator', 'change'],
                  rows: survivors,
                  filter: true,
                },
              ]
            : []),
          ...(failed.length > 0
            ? [
                {
                  type: 'table' as const,
                  title: 'Projects not mutation-tested',
                  columns: ['project', 'why'],
                  rows: failed.map((p): Cell[] => [p.project, p.error ?? p.status]),
                },
              ]
            : []),
        ],
      },
    ],
    details,
    notes: survivors.length >= MAX_SURVIVORS ? [`at most ${MAX_SURVIVORS} surviving mutants are listed here`] : [],
  };
}
