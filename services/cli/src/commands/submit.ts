import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { datasetId } from '@evalfleet/shared/datasets';
import { keyStatus } from '@evalfleet/shared/llm';
import { makeEnvelope, platformStages } from '@evalfleet/shared/messages';
import { runKeys } from '@evalfleet/shared/runs';
import { PlatformTypes, type RunRequested, type SubmitContext, type SubmittedRun } from '@evalfleet/shared/workflow';
import type { CliContext } from '../context.js';
import { readRegistry } from './models.js';
import { readCompleted, readRun } from './runs.js';
import { watchRun } from './status.js';

export type WaitOptions = { wait?: boolean; json?: boolean; quietResult?: boolean };

export function newRunId(kind: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `${kind}-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Decompressed, a file may not exceed this (a gzip bomb stops here, not in the CLI's memory). */
export const MAX_TEXT_BYTES = 1024 * 1024 * 1024;

/**
 * A local file's text as every kind's submit reads it: gzip (`.jsonl.gz`, recognised by its magic bytes
 * whatever the name) is decompressed, so uploads and parsing see the plain text.
 */
export function readLocalText(file: string): string {
  const bytes = readFileSync(file);
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes.toString('utf8');
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_TEXT_BYTES }).toString('utf8');
  } catch (err) {
    throw new Error(`${file}: not a readable gzip file (${(err as Error).message})`, { cause: err });
  }
}

/** What a kind's `submit` plan may use: local files, uploads by content hash, the model registry. */
export function submitContext(ctx: CliContext): SubmitContext {
  return {
    err: (line) => ctx.err(line),
    readText: (file) => readLocalText(file),
    upload: async (prefix, text, ext) => {
      const { ref } = await ctx.store().putIfAbsent(`${prefix}/${datasetId(text)}${ext}`, text, {
        contentType: ext.endsWith('.jsonl') ? 'application/x-ndjson' : 'application/octet-stream',
      });
      return ref;
    },
    checkModels: (models) => {
      const { registry } = readRegistry(ctx);
      const status = new Map(keyStatus(registry, ctx.config.env).map((k) => [k.name, k]));
      for (const m of models) {
        const k = status.get(m);
        if (!k) throw new Error(`unknown model ${m}: see evalfleet models`);
        if (!k.hasKey) throw new Error(`model ${m} needs ${k.keyEnv ?? 'an API key'}; it is not set`);
      }
    },
  };
}

/**
 * `evalfleet submit <kind>`: the kind's own plan validates the options locally and builds the spec
 * (uploading what it needs), then one `run.requested` is published; `--wait` follows it to the end.
 */
export async function submitKind(
  ctx: CliContext,
  kindName: string,
  opts: Record<string, unknown> & WaitOptions & { dryRun?: boolean; runId?: string },
): Promise<number> {
  const registry = await ctx.registry();
  const kind = registry.kind(kindName);
  if (!kind.cli) throw new Error(`kind ${kindName} cannot be submitted from the command line`);
  const dryRun = opts.dryRun === true;
  const plan = await kind.cli.plan(opts, { ...submitContext(ctx), dryRun });
  for (const line of plan.lines) ctx.err(line);
  if (dryRun) {
    ctx.err('dry run: nothing published');
    if (opts.json) ctx.out(JSON.stringify({ dryRun: true, jobs: plan.jobs, ...plan.details }));
    return 0;
  }
  const request: RunRequested = { kind: kindName, spec: plan.spec, submittedBy: 'evalfleet-cli' };
  registry.runRequestedSchema().parse(request);
  const runId = opts.runId ?? newRunId(kindName);
  const code = await publishRun(ctx, runId, request, opts);
  if (code === 0 && opts.wait) await kind.cli.afterWait?.(runId, opts, { ...submitContext(ctx), store: ctx.store() });
  return code;
}

/**
 * A run a kind's command puts through the fleet: validated like `submit`, published, followed to its
 * end with progress on stderr; nothing on stdout (the command prints its own answer).
 */
export async function submitAndWait(ctx: CliContext, kindName: string, spec: unknown): Promise<SubmittedRun> {
  const request: RunRequested = { kind: kindName, spec, submittedBy: 'evalfleet-cli' };
  (await ctx.registry()).runRequestedSchema().parse(request);
  const runId = newRunId(kindName);
  const code = await publishRun(ctx, runId, request, { wait: true, quietResult: true });
  return { runId, status: code === 0 ? 'completed' : code === 130 ? 'stopped' : 'failed' };
}

/** `evalfleet resume RUN`: re-publish a run's stored request; finished jobs are skipped. */
export async function resumeRun(ctx: CliContext, runId: string, opts: WaitOptions): Promise<number> {
  const record = await readRun(ctx, runId);
  if (!record) throw new Error(`no run ${runId} in ${ctx.store().describe()}`);
  const request: RunRequested = { kind: record.kind, spec: record.spec, submittedBy: 'evalfleet-cli resume' };
  (await ctx.registry()).runRequestedSchema().parse(request);
  return publishRun(ctx, runId, request, opts);
}

/** Publish one `run.requested`; with `wait`, follow the run to its end (exit 1 when it failed). */
export async function publishRun(
  ctx: CliContext,
  runId: string,
  request: RunRequested,
  opts: WaitOptions,
): Promise<number> {
  const env = makeEnvelope({
    type: PlatformTypes.runRequested,
    runId,
    jobId: `${runId}:request`,
    kind: request.kind,
    stage: platformStages.produce,
    payload: request,
  });
  // A resubmitted run id may have completed before: only a completion after this request counts.
  const submittedAt = new Date();
  await (await ctx.bus()).publish(env);
  ctx.err(`submitted run ${runId}`);
  if (!opts.wait) {
    if (opts.json) ctx.out(JSON.stringify({ runId }));
    else ctx.out(runId);
    return 0;
  }
  const done = await watchRun(ctx, runId, { signal: ctx.signals.signal, after: submittedAt });
  if (!done) {
    ctx.err(`stopped watching; the run goes on: evalfleet watch ${runId}`);
    return 130;
  }
  const completed = await readCompleted(ctx, runId);
  if (completed?.status === 'failed') {
    ctx.err(`run ${runId} failed: ${completed.reason ?? 'no reason recorded'}`);
    if (opts.json) ctx.out(JSON.stringify(completed));
    return 1;
  }
  if (opts.quietResult) return 0;
  const summary = await ctx.store().getOptional(runKeys.report(runId, 'summary.json'));
  if (opts.json) ctx.out(summary ? summary.toString('utf8') : JSON.stringify({ runId }));
  else ctx.out(`run ${runId} completed: evalfleet report ${runId}`);
  return 0;
}
