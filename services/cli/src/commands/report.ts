import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { finalizeRun, echoReporter, solveReporter } from '@evalfleet/aggregator';
import { RunCounters } from '@evalfleet/shared/runs';
import type { Summary } from '@evalfleet/shared/scoring';
import type { CliContext } from '../context.js';
import { readCompleted } from './runs.js';

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

/** `evalfleet report RUN`: the summary table and where every report file is. */
export async function reportCommand(
  ctx: CliContext,
  runId: string,
  opts: { json?: boolean; out?: string; rebuild?: boolean },
): Promise<number> {
  const store = ctx.store();
  if (opts.rebuild) {
    const deps = {
      bus: await ctx.bus(),
      store,
      counters: new RunCounters(await ctx.redis()),
      reporters: { echo: echoReporter, solve: solveReporter },
      logger: ctx.logger,
    };
    await finalizeRun(runId, deps, { force: true });
  }
  const completed = await readCompleted(ctx, runId);
  if (!completed) {
    ctx.err(
      `run ${runId} has not completed (evalfleet status ${runId}); --rebuild writes reports from the results stored so far`,
    );
    return 2;
  }
  const summaryBody = await store.getOptional(`runs/${runId}/summary.json`);
  if (opts.json) {
    ctx.out(summaryBody ? summaryBody.toString('utf8') : JSON.stringify(completed, null, 2));
  } else if (summaryBody) {
    const summary = JSON.parse(summaryBody.toString('utf8')) as Partial<Summary> & Record<string, unknown>;
    if (Array.isArray(summary.models)) for (const line of summaryTable(summary as Summary)) ctx.out(line);
    else ctx.out(JSON.stringify(summary, null, 2));
  }
  if (opts.out) {
    for (const [name, key] of Object.entries(completed.reports)) {
      const file = path.join(opts.out, name);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, await store.get(key));
    }
    ctx.err(`wrote ${Object.keys(completed.reports).length} report files to ${opts.out}`);
  }
  if (!opts.json) {
    ctx.out('');
    ctx.out(`reports (${store.describe()}):`);
    for (const key of Object.values(completed.reports).sort()) ctx.out(`  ${key}`);
  }
  return 0;
}
