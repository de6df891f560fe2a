import { runKeys } from '../../runs/index.js';
import { getJson, putJson, putJsonl, type ArtifactStore } from '../../storage/index.js';
import type { ReportContext, TypedResult } from '../../workflow/index.js';
import { rejectionReasons, strategies, type Strategy } from './messages.js';
import type { GenerateResult, SynthResult, ValidateResult } from './result.js';
import { instanceOf, taskRecordSchema, type TaskRecord } from './task.js';

type Stored<R> = TypedResult<R>;

const round = (n: number) => Math.round(n * 1e6) / 1e6;

function byReason(rs: readonly { reason: string }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of rs) out[r.reason] = (out[r.reason] ?? 0) + 1;
  return out;
}

export type StrategyYield = { strategy: Strategy; proposed: number; valid: number; yield: number | null };

/** Per strategy: buggy versions proposed (valid + turned down), valid ones, and their share. */
export function strategyYield(
  results: readonly GenerateResult[],
  asked: readonly Strategy[] = strategies,
): StrategyYield[] {
  return asked.map((strategy) => {
    const valid = results.reduce((n, r) => n + r.tasks.filter((t) => t.strategy === strategy).length, 0);
    const rejected = results.reduce((n, r) => n + r.rejections.filter((x) => x.strategy === strategy).length, 0);
    const proposed = valid + rejected;
    return { strategy, proposed, valid, yield: proposed ? round(valid / proposed) : null };
  });
}

/** The run's numbers: tasks, yield per strategy, rejections by reason, cost per accepted task, per model. */
export function synthSummary(runId: string, results: readonly GenerateResult[], asked: readonly Strategy[]) {
  const tasks = results.reduce((n, r) => n + r.tasks.length, 0);
  const cost = results.reduce((n, r) => n + r.costUsd, 0);
  const all = results.flatMap((r) => r.rejections);
  const models = [...new Set(results.map((r) => r.model))].sort();
  const ordered = (counts: Record<string, number>) =>
    Object.fromEntries(rejectionReasons.filter((r) => counts[r]).map((r) => [r, counts[r]!]));
  return {
    mode: 'generate' as const,
    runId,
    jobs: results.length,
    acceptedJobs: results.filter((r) => r.status === 'accepted').length,
    status: byReason(results.map((r) => ({ reason: r.status }))),
    tasks,
    byStrategy: strategyYield(results, asked),
    rejections: ordered(byReason(all)),
    generationRejections: ordered(byReason(all.filter((r) => r.strategy === undefined))),
    candidateRejections: ordered(byReason(all.filter((r) => r.strategy !== undefined))),
    generations: results.reduce((n, r) => n + r.generations, 0),
    promptTokens: results.reduce((n, r) => n + r.promptTokens, 0),
    completionTokens: results.reduce((n, r) => n + r.completionTokens, 0),
    costUsd: round(cost),
    costPerTaskUsd: tasks ? round(cost / tasks) : null,
    models: models.map((model) => {
      const own = results.filter((r) => r.model === model);
      const n = own.reduce((k, r) => k + r.tasks.length, 0);
      const c = own.reduce((k, r) => k + r.costUsd, 0);
      return {
        model,
        jobs: own.length,
        acceptedJobs: own.filter((r) => r.status === 'accepted').length,
        tasks: n,
        byStrategy: strategyYield(own, asked),
        rejections: ordered(byReason(own.flatMap((r) => r.rejections))),
        costUsd: round(c),
        costPerTaskUsd: n ? round(c / n) : null,
      };
    }),
  };
}
export type SynthSummary = ReturnType<typeof synthSummary>;

const order = (a: Stored<GenerateResult>, b: Stored<GenerateResult>) =>
  a.result.model < b.result.model ? -1 : a.result.model > b.result.model ? 1 : a.result.slot - b.result.slot;

/** The accepted tasks' records, in job order (read from the store: the results hold their keys). */
export async function loadTasks(
  store: ArtifactStore,
  results: readonly Stored<GenerateResult>[],
): Promise<TaskRecord[]> {
  const out: TaskRecord[] = [];
  for (const r of [...results].sort(order))
    for (const t of r.result.tasks) out.push(await getJson(store, t.task.key, taskRecordSchema));
  return out;
}

async function generateReport(
  runId: string,
  spec: Record<string, unknown>,
  results: Stored<GenerateResult>[],
  store: ArtifactStore,
): Promise<Record<string, string>> {
  const sorted = [...results].sort(order);
  const key = (name: string) => runKeys.report(runId, name);
  const tasks = await loadTasks(store, sorted);
  await putJsonl(store, key('tasks.jsonl'), tasks);
  await putJsonl(store, key('instances.jsonl'), tasks.map(instanceOf));
  await putJsonl(
    store,
    key('rejections.jsonl'),
    sorted.flatMap((r) =>
      r.result.rejections.map((x) => ({
        job_id: r.jobId,
        model: r.result.model,
        scenario: r.result.scenario.id,
        ...x,
      })),
    ),
  );
  await putJsonl(
    store,
    key('results.jsonl'),
    sorted.map((r) => ({
      job_id: r.jobId,
      model: r.result.model,
      slot: r.result.slot,
      scenario: r.result.scenario,
      status: r.result.status,
      generations: r.result.generations,
      tasks: r.result.tasks.map((t) => ({
        instance_id: t.instanceId,
        strategy: t.strategy,
        operator: t.operator ?? null,
        bundle: t.bundle.key,
      })),
      rejections: byReason(r.result.rejections),
      prompt_tokens: r.result.promptTokens,
      completion_tokens: r.result.completionTokens,
      cost_usd: r.result.costUsd,
      ...(r.result.reason ? { reason: r.result.reason } : {}),
    })),
  );
  const asked = Array.isArray(spec['strategies']) ? (spec['strategies'] as Strategy[]) : [...strategies];
  await putJson(
    store,
    key('summary.json'),
    synthSummary(
      runId,
      sorted.map((r) => r.result),
      asked,
    ),
    { pretty: true },
  );
  return {
    'tasks.jsonl': key('tasks.jsonl'),
    'instances.jsonl': key('instances.jsonl'),
    'rejections.jsonl': key('rejections.jsonl'),
    'results.jsonl': key('results.jsonl'),
    'summary.json': key('summary.json'),
  };
}

export function validateSummary(runId: string, results: readonly ValidateResult[]) {
  return {
    mode: 'validate' as const,
    runId,
    tasks: results.length,
    valid: results.filter((r) => r.ok).length,
    invalid: results.filter((r) => !r.ok).length,
  };
}

async function validateReport(runId: string, results: Stored<ValidateResult>[], store: ArtifactStore) {
  const rows = [...results].sort((a, b) => a.result.line - b.result.line).map((r) => r.result);
  const key = (name: string) => runKeys.report(runId, name);
  await putJsonl(
    store,
    key('validation.jsonl'),
    rows.map((r) => ({
      instance_id: r.instanceId,
      line: r.line,
      ok: r.ok,
      clean: r.clean ?? null,
      buggy: r.buggy ?? null,
      FAIL_TO_PASS: r.expectedFailToPass,
      problems: r.problems,
    })),
  );
  await putJson(store, key('summary.json'), validateSummary(runId, rows), { pretty: true });
  return { 'validation.jsonl': key('validation.jsonl'), 'summary.json': key('summary.json') };
}

/** generate: tasks.jsonl, instances.jsonl, rejections.jsonl, results.jsonl, summary.json; validate: validation.jsonl, summary.json. */
export async function synthReport({
  record,
  results,
  store,
}: ReportContext<SynthResult>): Promise<Record<string, string>> {
  const generated = results.filter((r): r is Stored<GenerateResult> => r.result.mode === 'generate');
  const validated = results.filter((r): r is Stored<ValidateResult> => r.result.mode === 'validate');
  if (record.spec['mode'] === 'validate') return validateReport(record.runId, validated, store);
  return generateReport(record.runId, record.spec, generated, store);
}
