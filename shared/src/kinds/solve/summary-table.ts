import type { Summary } from '../../scoring/index.js';
import type { EvalPlusSummary } from './evalplus-summary.js';
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
  if (!Array.isArray(models)) return undefined;
  const { evalplus, sandboxImages } = summary as { evalplus?: EvalPlusSummary; sandboxImages?: SandboxImages };
  return [...summaryTable(summary as Summary), ...evalplusLines(evalplus, sandboxImages), ...failureLines(summary)];
}

type SandboxImages = { tag: string; manifestSha256?: string; python?: string; samples: number }[];

/** EvalPlus's two scores per model (base tests; base + plus tests) and the images the samples ran in. */
function evalplusLines(evalplus: EvalPlusSummary | undefined, images: SandboxImages | undefined): string[] {
  const lines: string[] = [];
  if (evalplus) {
    lines.push('', 'EvalPlus (pass@k on the base tests / on base + plus tests):');
    for (const m of evalplus.models) {
      const scores = m.base.map((b) => `pass@${b.k} ${pct(b.value)} / ${pct(m.plus.find((p) => p.k === b.k)?.value)}`);
      lines.push(`  ${m.model}: ${scores.join('   ') || 'no scored samples'}`);
    }
    const excluded = evalplus.excludedInputs.reduce((sum, e) => sum + e.count, 0);
    if (excluded > 0)
      lines.push(
        `  ${excluded} inputs of ${evalplus.excludedInputs.length} tasks left out (contract or reference failure)`,
      );
  }
  for (const image of images ?? [])
    lines.push(
      `sandbox image ${image.tag}${image.python ? ` (python ${image.python})` : ''}, manifest sha256 ${image.manifestSha256 ?? 'unknown'}: ${image.samples} samples`,
    );
  return lines;
}
