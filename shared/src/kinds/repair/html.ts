// The repair kind's sections of report.html: fixed by turn per model, the pass rate against the
// tokens spent (how much of a gain is feedback and how much is only more sampling), cost per fix,
// and every attempt with its turns, failing tests and last diff as drill-down records.
import { runKeys } from '../../runs/index.js';
import { clip, type Cell, type Detail, type ReportPart, type Tone } from '../../report/index.js';
import type { HtmlReportContext } from '../../workflow/index.js';
import { summarizeModel } from './report.js';
import type { RepairResult } from './result.js';
import { turnStateSchema } from './state.js';

/** Attempts whose last diff the page embeds at most (the rest keep theirs in the store). */
const maxDiffs = 300;

const tone: Record<RepairResult['verdict'], Tone> = {
  fixed: 'good',
  not_fixed: 'bad',
  not_reproducible: 'muted',
  budget_exhausted: 'warn',
  dead_lettered: 'warn',
};

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

export async function repairHtml(ctx: HtmlReportContext<RepairResult>): Promise<ReportPart> {
  const maxTurns = typeof ctx.record.spec['maxTurns'] === 'number' ? ctx.record.spec['maxTurns'] : 1;
  const models = [...new Set(ctx.results.map((r) => r.result.model))].sort();
  const summaries = models.map((m) =>
    summarizeModel(
      m,
      ctx.results.filter((r) => r.result.model === m),
      maxTurns,
    ),
  );
  const turns = Array.from({ length: maxTurns }, (_, i) => `turn ${i + 1}`);
  const details: Record<string, Detail> = {};
  let diffs = 0;
  const rows: Cell[][] = [];
  for (const r of [...ctx.results].sort((a, b) => a.jobId.localeCompare(b.jobId))) {
    const x = r.result;
    const id = `attempt:${r.jobId}`;
    const fields: Detail['fields'] = [
      { label: 'verdict', text: `${x.verdict}${x.fixedAtTurn ? ` at turn ${x.fixedAtTurn}` : ''}` },
      {
        label: 'turns',
        text: x.history
          .map(
            (h) =>
              `turn ${h.turn}: ${h.outcome}${h.reason ? ` (${h.reason})` : ''}, ${h.promptTokens + h.completionTokens} tokens, $${h.costUsd.toFixed(6)}`,
          )
          .join('\n'),
      },
    ];
    if (x.failing.length) fields.push({ label: 'still failing', text: x.failing.join('\n') });
    if (x.regressions.length) fields.push({ label: 'regressions', text: x.regressions.join('\n') });
    if (x.message) fields.push({ label: 'message', text: x.message });
    const last = x.history.at(-1)?.turn;
    if (last !== undefined && diffs < maxDiffs) {
      const key = runKeys.job(ctx.record.runId, r.jobId, `turn-${last}.json`);
      const state = await ctx.store.getOptional(key);
      if (state) {
        diffs += 1;
        const turn = turnStateSchema.safeParse(JSON.parse(state.toString('utf8')));
        if (turn.success && turn.data.diff)
          fields.push({ label: `diff (turn ${last})`, kind: 'code', ...clip(turn.data.diff, 4000) });
      }
    }
    details[id] = { title: `${x.model} · ${x.bugId} · sample ${x.sampleIndex}`, fields };
    rows.push([
      x.model,
      { text: x.bugId, details: [id], mono: true },
      x.category,
      { text: x.verdict, tone: tone[x.verdict] },
      x.turns,
      x.regressions.length,
      Number(x.costUsd.toFixed(6)),
    ]);
  }
  return {
    details,
    ...(ctx.results.length > maxDiffs
      ? { notes: [`diffs are embedded for the first ${maxDiffs} attempts; all turns are in the store`] }
      : {}),
    sections: [
      {
        id: 'repair',
        title: 'Repair',
        intro: 'Each attempt: the first answer, then the new error in the same conversation, up to the turn limit.',
        blocks: [
          {
            type: 'table',
            title: 'Per model',
            columns: [
              'model',
              'attempts',
              'fixed',
              'fix rate',
              'repair@1',
              'bugs fixed',
              'tokens per fix',
              '$ per fix',
              'with regressions',
            ],
            rows: summaries.map((s) => [
              s.model,
              s.scoredAttempts,
              s.fixedAttempts,
              pct(s.fixRate),
              pct(s.repairAtK.find((k) => k.k === 1)?.value ?? null),
              `${s.fixedBugs}/${s.bugs}`,
              s.tokensPerFixedBug === null ? '-' : Math.round(s.tokensPerFixedBug),
              s.costPerFixedBug === null ? '-' : Number(s.costPerFixedBug.toFixed(6)),
              s.withRegressions,
            ]),
          },
          {
            type: 'chart',
            title: 'Fixed by turn (cumulative)',
            chart: {
              kind: 'bar',
              labels: turns,
              series: summaries.map((s) => ({ name: s.model, values: s.fixedByTurn.map((t) => t.fixed) })),
              yTitle: 'attempts fixed',
            },
          },
          {
            type: 'chart',
            title: 'Fix rate against tokens spent per attempt',
            chart: {
              kind: 'scatter',
              series: summaries.map((s) => ({
                name: s.model,
                points: s.fixedByTurn
                  .filter((t) => t.rate !== null)
                  .map((t) => ({ x: Math.round(t.meanTokensPerAttempt), y: (t.rate ?? 0) * 100 })),
              })),
              xTitle: 'mean tokens per attempt by turn t',
              yTitle: 'fixed by turn t (%)',
              max: 100,
            },
          },
          {
            type: 'chart',
            title: 'Cost per fixed bug (USD)',
            chart: {
              kind: 'bar',
              labels: summaries.map((s) => s.model),
              series: [{ name: '$ per fixed bug', values: summaries.map((s) => s.costPerFixedBug) }],
            },
          },
          {
            type: 'table',
            title: 'Attempts',
            columns: ['model', 'bug', 'category', 'verdict', 'turns', 'regressions', 'cost $'],
            rows,
            filter: true,
          },
        ],
      },
    ],
  };
}
