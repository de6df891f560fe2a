import { parsePatches } from './dataset.js';
import { runKeys } from '../../runs/index.js';
import { naturalCompare, passAtK, toCsv } from '../../scoring/index.js';
import { putJson, putJsonl, type ArtifactStore } from '../../storage/index.js';
import type { ReportContext, TypedResult } from '../../workflow/index.js';
import type { RepairResult } from './result.js';

type Stored = TypedResult<RepairResult>;

/** Attempts that say nothing about the model: nothing to fix, no budget, or never processed. */
const unscored = new Set<RepairResult['verdict']>(['not_reproducible', 'budget_exhausted', 'dead_lettered']);

function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** repair@k over bugs: each bug's n scored attempts with c fixed, the unbiased estimator, averaged. */
function repairAtK(byBug: Map<string, Stored[]>, k: number): { k: number; value: number; bugs: number } | undefined {
  const values: number[] = [];
  for (const attempts of byBug.values()) {
    const scored = attempts.filter((a) => !unscored.has(a.result.verdict));
    if (scored.length < k) continue;
    values.push(passAtK(scored.length, scored.filter((a) => a.result.fixed).length, k));
  }
  const m = mean(values);
  return m === null ? undefined : { k, value: m, bugs: values.length };
}

export function summarizeModel(model: string, rows: readonly Stored[], maxTurns: number) {
  const scored = rows.filter((r) => !unscored.has(r.result.verdict));
  const byBug = new Map<string, Stored[]>();
  for (const r of rows) byBug.set(r.result.bugId, [...(byBug.get(r.result.bugId) ?? []), r]);
  const fixedBugs = [...byBug.values()].filter((a) => a.some((r) => r.result.fixed)).length;
  const maxSamples = Math.max(0, ...[...byBug.values()].map((a) => a.length));
  const cost = rows.reduce((s, r) => s + r.result.costUsd, 0);
  const tokens = rows.reduce((s, r) => s + r.result.promptTokens + r.result.completionTokens, 0);
  // Fixed by turn t (cumulative) and the tokens spent by then: the pass-rate-vs-tokens view,
  // which separates what feedback buys from what is only more sampling.
  const byTurn = Array.from({ length: maxTurns }, (_, i) => {
    const t = i + 1;
    const spent = scored.map((r) =>
      r.result.history.filter((h) => h.turn <= t).reduce((s, h) => s + h.promptTokens + h.completionTokens, 0),
    );
    const fixed = scored.filter((r) => r.result.fixedAtTurn !== undefined && r.result.fixedAtTurn <= t).length;
    return {
      turn: t,
      fixed,
      rate: scored.length === 0 ? null : fixed / scored.length,
      meanTokensPerAttempt: mean(spent) ?? 0,
    };
  });
  const categories = [...new Set(rows.map((r) => r.result.category))].sort(naturalCompare).map((category) => {
    const inCat = scored.filter((r) => r.result.category === category);
    return {
      category,
      attempts: inCat.length,
      fixed: inCat.filter((r) => r.result.fixed).length,
      rate: inCat.length === 0 ? null : inCat.filter((r) => r.result.fixed).length / inCat.length,
    };
  });
  return {
    model,
    attempts: rows.length,
    scoredAttempts: scored.length,
    bugs: byBug.size,
    fixedAttempts: scored.filter((r) => r.result.fixed).length,
    fixedBugs,
    fixRate: scored.length === 0 ? null : scored.filter((r) => r.result.fixed).length / scored.length,
    repairAtK: Array.from({ length: maxSamples }, (_, i) => repairAtK(byBug, i + 1)).filter((x) => x !== undefined),
    fixedByTurn: byTurn,
    categories,
    tokens: {
      prompt: rows.reduce((s, r) => s + r.result.promptTokens, 0),
      completion: rows.reduce((s, r) => s + r.result.completionTokens, 0),
    },
    costUsd: cost,
    tokensPerFixedBug: fixedBugs === 0 ? null : tokens / fixedBugs,
    costPerFixedBug: fixedBugs === 0 ? null : cost / fixedBugs,
    /** Attempts whose last patch broke tests that passed on the buggy code. */
    withRegressions: scored.filter((r) => r.result.regressions.length > 0).length,
    notReproducible: rows.filter((r) => r.result.verdict === 'not_reproducible').length,
    budgetExhausted: rows.filter((r) => r.result.verdict === 'budget_exhausted').length,
    deadLettered: rows.filter((r) => r.result.verdict === 'dead_lettered').length,
  };
}

const csvColumns = [
  'model',
  'bugId',
  'category',
  'sampleIndex',
  'verdict',
  'fixed',
  'turns',
  'fixedAtTurn',
  'promptTokens',
  'completionTokens',
  'costUsd',
  'regressions',
  'reason',
] as const;

async function writePatchesResults(store: ArtifactStore, runId: string, patchesKey: string, rows: readonly Stored[]) {
  const { patches } = parsePatches((await store.get(patchesKey)).toString('utf8'));
  const byLine = new Map(rows.filter((r) => r.result.patchLine !== undefined).map((r) => [r.result.patchLine, r]));
  const key = runKeys.report(runId, 'patches_results.jsonl');
  await putJsonl(
    store,
    key,
    patches.map((p) => {
      const r = byLine.get(p.line);
      return {
        ...p.raw,
        fixed: r?.result.fixed === true,
        result: r ? r.result.verdict : 'not evaluated',
        ...(r?.result.failing.length ? { failing: r.result.failing } : {}),
        ...(r?.result.reason ? { reason: r.result.reason } : {}),
      };
    }),
  );
  return key;
}

/** results.jsonl, results.csv, summary.json (per model and category, repair@k, fixed by turn, cost), and patches_results.jsonl. */
export async function repairReport({
  record,
  results,
  store,
}: ReportContext<RepairResult>): Promise<Record<string, string>> {
  const runId = record.runId;
  const rows = [...results].sort(
    (a, b) =>
      naturalCompare(a.result.model, b.result.model) ||
      naturalCompare(a.result.bugId, b.result.bugId) ||
      a.result.sampleIndex - b.result.sampleIndex,
  );
  const reports: Record<string, string> = {};
  reports['results.jsonl'] = runKeys.report(runId, 'results.jsonl');
  await putJsonl(
    store,
    reports['results.jsonl'],
    rows.map((r) => ({ jobId: r.jobId, ...r.result })),
  );
  reports['results.csv'] = runKeys.report(runId, 'results.csv');
  await store.put(
    reports['results.csv'],
    toCsv(
      rows.map((r) => ({ ...r.result, regressions: r.result.regressions.join(' ') })),
      csvColumns,
    ),
    { contentType: 'text/csv' },
  );
  const maxTurns = typeof record.spec['maxTurns'] === 'number' ? record.spec['maxTurns'] : 1;
  const models = [...new Set(rows.map((r) => r.result.model))].sort(naturalCompare);
  reports['summary.json'] = runKeys.report(runId, 'summary.json');
  await putJson(store, reports['summary.json'], {
    runId,
    kind: record.kind,
    createdAt: record.createdAt,
    completedAt: new Date().toISOString(),
    totalJobs: record.totalJobs,
    parameters: record.spec,
    dataset: { id: record.meta['datasetId'], errors: record.meta['datasetErrors'] },
    models: models.map((m) =>
      summarizeModel(
        m,
        rows.filter((r) => r.result.model === m),
        maxTurns,
      ),
    ),
  });
  const patchesKey = record.meta['patchesKey'];
  if (typeof patchesKey === 'string')
    reports['patches_results.jsonl'] = await writePatchesResults(store, runId, patchesKey, rows);
  return reports;
}
