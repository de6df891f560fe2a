// A run's LLM calls as stored by the model caller: one JSON trace per job attempt at
// `runKeys.trace(runId, jobId, attempt)`. Kind-agnostic: the listings read only the traces, and
// the job's result where a caller passes it (for the task a job was about).
import { z } from 'zod';
import { decodeJobId, runKeys } from '../runs/keys.js';
import type { ArtifactStore } from '../storage/index.js';
import { mapLimit } from './clip.js';

/** The fields of a stored `LlmTrace` the listings read; the rest passes through. */
export const storedTraceSchema = z.looseObject({
  model: z.string(),
  provider: z.string().optional(),
  remoteModel: z.string().optional(),
  request: z.looseObject({
    messages: z.array(z.looseObject({ role: z.string(), content: z.string() })),
    maxTokens: z.number().optional(),
    temperature: z.number().optional(),
  }),
  responseText: z.string().nullable(),
  finishReason: z.string().nullable().optional(),
  usage: z.looseObject({ promptTokens: z.number(), completionTokens: z.number() }).nullable(),
  promptTokensEstimate: z.number().optional(),
  latencyMs: z.number(),
  costUsd: z.number(),
  status: z.number().nullable(),
  cached: z.boolean().optional(),
  outcome: z.string(),
  error: z
    .looseObject({
      code: z.string(),
      message: z.string(),
      retryable: z.boolean().optional(),
      retryAfterMs: z.number().optional(),
    })
    .optional(),
  rawBody: z.string().optional(),
  startedAt: z.string(),
});
export type StoredTrace = z.infer<typeof storedTraceSchema>;

/** Where one attempt's trace is. */
export type TraceRef = { jobId: string; attempt: number; key: string };

/**
 * Every trace of a run, by job then attempt: one listing of the run's trace prefix (a job id's
 * `#step` suffix, e.g. `#judge`, names a second call a job makes; it is a job id of its own here).
 */
export async function listTraces(store: ArtifactStore, runId: string, jobId?: string): Promise<TraceRef[]> {
  const base = runKeys.trace(runId, '-', 1).replace(/[^/]+\/attempt-1\.json$/, '');
  const prefix = jobId === undefined ? base : runKeys.trace(runId, jobId, 1).replace(/attempt-1\.json$/, '');
  const refs: TraceRef[] = [];
  for await (const key of store.list(prefix)) {
    const m = /^([^/]+)\/attempt-(\d+)\.json$/.exec(key.slice(base.length));
    if (!m?.[1] || !m[2]) continue;
    refs.push({ jobId: decodeJobId(m[1]), attempt: Number(m[2]), key });
  }
  return refs.sort((a, b) => (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : a.attempt - b.attempt));
}

export async function readTrace(store: ArtifactStore, key: string): Promise<StoredTrace> {
  return storedTraceSchema.parse(JSON.parse((await store.get(key)).toString('utf8')));
}

/** One LLM call as `evalfleet traces` lists it. */
export type CallRow = {
  jobId: string;
  attempt: number;
  model: string;
  /** The task the job was about, from its result when it has one. */
  taskId?: string;
  outcome: string;
  latencyMs: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  cached: boolean;
  status: number | null;
  /** Why this attempt happened: the previous attempt's failure (`redelivered` when it had none). */
  retryReason?: string;
  /** This attempt's failure, when it failed. */
  error?: string;
  startedAt: string;
  key: string;
};

export function callRow(
  ref: TraceRef,
  trace: StoredTrace,
  previous: StoredTrace | undefined,
  taskId?: string,
): CallRow {
  return {
    jobId: ref.jobId,
    attempt: ref.attempt,
    model: trace.model,
    ...(taskId !== undefined ? { taskId } : {}),
    outcome: trace.outcome,
    latencyMs: trace.latencyMs,
    promptTokens: trace.usage?.promptTokens ?? 0,
    completionTokens: trace.usage?.completionTokens ?? 0,
    costUsd: trace.costUsd,
    cached: trace.cached === true,
    status: trace.status,
    ...(previous ? { retryReason: previous.error?.code ?? 'redelivered' } : {}),
    ...(trace.error ? { error: `${trace.error.code}: ${trace.error.message}` } : {}),
    startedAt: trace.startedAt,
    key: ref.key,
  };
}

/** Every call of a run with its retry reason; `taskOf(jobId)` names a job's task where it can. */
export async function loadCalls(
  store: ArtifactStore,
  runId: string,
  taskOf: (jobId: string) => Promise<string | undefined>,
): Promise<CallRow[]> {
  const refs = await listTraces(store, runId);
  const traces = await mapLimit(refs, 16, (ref) => readTrace(store, ref.key));
  const rows: CallRow[] = [];
  for (const [i, ref] of refs.entries()) {
    const trace = traces[i];
    if (!trace) continue;
    const prev = i > 0 && refs[i - 1]?.jobId === ref.jobId ? traces[i - 1] : undefined;
    rows.push(callRow(ref, trace, prev, await taskOf(ref.jobId)));
  }
  return rows;
}
