import type { Summary } from '../../scoring/index.js';
import { failureLines } from './failures.js';

const pct = (v: number | null | undefined) =>
  v === null || v === undefined ? '   -  ' : `${(v * 100).toFixed(1).padStart(5)}%`;

/** The per-model table users read first: pass@1, pass@k, solved tasks, failure modes, cost. */
export function summaryTable(summary: Summary): string[] {
  const lines: string[] = [];
  const maxK = Math.max(1, ...summary.models.flatMap((m) => m.passAtK.map((p) => p.k)));
  const width = Math.max(5, ...summary.models.map((m) => m.model.length));
  lines.push(
    `${'model'.padEnd(width)}  samples  pass@1  ${maxK > 1 ? `pass@${maxK}`.padStart(6) + '  ' : ''}solved   no-code  syntax  p50 ms  tokens in/out       cost $  $/solved`,
  );
  for (const m of summary.models) {
    const p1 = m.passAtK.find((p) => p.k === 1)?.value;
    const pk = m.passAtK.find((p) => p.k === maxK)?.value;
    lines.push(
      [
        m.model.padEnd(width),
        String(m.samples).padStart(7),
        pct(p1),
        ...(maxK > 1 ? [pct(pk)] : []),
        `${m.solvedTasks}/${m.tasks}`.padStart(7),
        pct(m.noCodeRate),
        pct(m.syntaxErrorRate),
        String(Math.round(m.latencyMs?.p50 ?? 0)).padStart(6),
        `${m.tokens.prompt}/${m.tokens.completion}`.padStart(17),
        m.costUsd.toFixed(4).padStart(10),
        (m.costPerSolvedTask === null ? '-' : m.costPerSolvedTask.toFixed(4)).padStart(9),
      ].join('  '),
    );
  }
  for (const m of summary.models) {
    if (m.budgetExhausted > 0) {
      lines.push(
        `${m.model}: run budget reached — ${m.budgetExhausted} of ${m.samples} jobs ended budget_exhausted (no call made; not scored)`,
      );
    }
    if (m.cached > 0) lines.push(`${m.model}: ${m.cached} answers from the response cache (no cost)`);
    const weak = (m.integrity?.handle ?? 0) + (m.integrity?.['in-process'] ?? 0);
    if (weak > 0)
      lines.push(
        `${m.model}: ${weak} verdicts not decided by the trusted checker alone (handle ${m.integrity.handle}, in-process ${m.integrity['in-process']}; see SECURITY.md)`,
      );
    if (m.deadLettered > 0)
      lines.push(
        `${m.model}: ${m.deadLettered} jobs dead-lettered (not scored; see evalfleet dlq list, requeue with evalfleet dlq requeue <stage>)`,
      );
  }
  const cats = [...new Set(summary.models.flatMap((m) => m.categories.map((c) => c.category)))].sort();
  if (cats.length > 0) {
    lines.push(
      '',
      `pass@1 by category: ${''.padEnd(Math.max(0, width - 19))}${cats.map((c) => c.slice(0, 12).padStart(12)).join(' ')}`,
    );
    for (const m of summary.models) {
      const byCat = new Map(m.categories.map((c) => [c.category, c.passAt1]));
      lines.push(`${m.model.padEnd(Math.max(width, 20))}${cats.map((c) => pct(byCat.get(c)).padStart(12)).join(' ')}`);
    }
  }
  return lines;
}

/** `summary.json` of a solve run as the table, or undefined when it is not one. */
export function summaryLines(summary: unknown): string[] | undefined {
  const models: unknown = typeof summary === 'object' && summary !== null ? Reflect.get(summary, 'models') : undefined;
  // Written by solveReport from `summarize`: the shape is ours.
  return Array.isArray(models) ? [...summaryTable(summary as Summary), ...failureLines(summary)] : undefined;
}
