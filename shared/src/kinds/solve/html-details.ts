// The drill-down records of a solve run's page: per sample its result, judgement, code, test
// output (from the sandbox's verdict file) and LLM call (from its trace). Bounded for big runs:
// at most `maxSamples` records (failed samples first), each text cut at `fieldChars`, and no
// more records once `totalChars` is spent; the page says what was left out.
import { z } from 'zod';
import {
  clip,
  listTraces,
  mapLimit,
  readTrace,
  type Detail,
  type StoredTrace,
  type TraceRef,
} from '../../report/index.js';
import { naturalCompare } from '../../scoring/index.js';
import type { ArtifactStore } from '../../storage/index.js';
import type { TypedResult } from '../../workflow/index.js';
import { isFailedSample } from './failures.js';
import type { SolveResult } from './result.js';

type Stored = TypedResult<SolveResult>;

export const detailCaps = { maxSamples: 1000, fieldChars: 4000, totalChars: 8_000_000 };

/** The parts of the sandbox's verdict file (`SandboxResult`) a record shows. */
const verdictFileSchema = z.looseObject({
  tests: z
    .array(
      z.looseObject({
        name: z.string(),
        outcome: z.string(),
        durationMs: z.number().optional(),
        message: z.string().optional(),
      }),
    )
    .default([]),
  stdout: z.string().default(''),
  stderr: z.string().default(''),
  truncated: z.boolean().optional(),
  exitCode: z.number().nullable().optional(),
  message: z.string().optional(),
});
type VerdictFile = z.infer<typeof verdictFileSchema>;

type Field = Detail['fields'][number];

function textField(label: string, text: string, max: number, kind: 'text' | 'code', keep: 'head' | 'tail'): Field {
  const c = clip(text, max, keep);
  return { label, text: c.text, kind, ...(c.note ? { note: c.note } : {}) };
}

function resultLines(r: Stored): string {
  const s = r.result;
  const tokens = `${s.promptTokens ?? 0} in / ${s.completionTokens ?? 0} out`;
  return [
    `job ${r.jobId} · stored attempt ${r.attempt}`,
    `verdict: ${s.verdict}${s.reason ? ` (${s.reason})` : ''}`,
    `extraction: ${s.extraction ?? '-'}`,
    `LLM: ${tokens} tokens · $${(s.costUsd ?? 0).toFixed(6)} · ${Math.round(s.latencyMs ?? 0)} ms${s.cached ? ' · from the response cache' : ''}`,
    ...(s.durationMs !== undefined
      ? [
          `sandbox: ${Math.round(s.durationMs)} ms${s.sandbox ? ` (${s.sandbox}${s.integrity ? `, ${s.integrity}` : ''})` : ''}`,
        ]
      : []),
    ...(s.deadLetter ? [`dead-lettered at ${s.deadLetter.stage}: ${s.deadLetter.code}: ${s.deadLetter.message}`] : []),
  ].join('\n');
}

function testFields(r: Stored, verdict: VerdictFile | undefined, max: number): Field[] {
  const tests = verdict?.tests ?? r.result.tests ?? [];
  const fields: Field[] = [];
  if (tests.length > 0) {
    const lines = tests.map((t) => {
      const ms = 'durationMs' in t && typeof t.durationMs === 'number' ? ` (${Math.round(t.durationMs)} ms)` : '';
      return `${t.outcome === 'passed' ? '✓' : '✗'} ${t.name}: ${t.outcome}${ms}`;
    });
    fields.push(textField('Tests', lines.join('\n'), max, 'code', 'head'));
  }
  const messages = (verdict?.tests ?? []).filter((t) => t.message).map((t) => `── ${t.name} ──\n${t.message ?? ''}`);
  const output = [
    ...messages,
    ...(verdict?.message && messages.length === 0 ? [verdict.message] : []),
    ...(!verdict && r.result.message ? [r.result.message] : []),
    ...(verdict?.stdout ? [`── stdout ──\n${verdict.stdout}`] : []),
    ...(verdict?.stderr ? [`── stderr ──\n${verdict.stderr}`] : []),
  ].join('\n');
  if (output) fields.push(textField('Test output', output, max, 'code', 'tail'));
  return fields;
}

function traceFields(trace: StoredTrace, ref: TraceRef, attempts: number, max: number): Field[] {
  const usage = trace.usage ? `${trace.usage.promptTokens} in / ${trace.usage.completionTokens} out` : 'no usage';
  const call = [
    `attempt ${ref.attempt} of ${attempts} stored · ${trace.model}${trace.remoteModel ? ` (${trace.remoteModel})` : ''}`,
    `outcome ${trace.outcome}${trace.status !== null ? ` · HTTP ${trace.status}` : ''}${trace.cached ? ' · cached' : ''}`,
    `${Math.round(trace.latencyMs)} ms · ${usage} tokens · $${trace.costUsd.toFixed(6)}`,
    ...(trace.error ? [`error: ${trace.error.code}: ${trace.error.message}`] : []),
    `trace: ${ref.key}`,
  ].join('\n');
  const prompt = trace.request.messages.map((m) => `── ${m.role} ──\n${m.content}`).join('\n');
  return [
    { label: 'LLM call', text: call, kind: 'code' },
    textField('Prompt', prompt, max, 'code', 'head'),
    textField('Response', trace.responseText ?? trace.rawBody ?? '(no response)', max, 'code', 'head'),
  ];
}

async function readVerdict(store: ArtifactStore, r: Stored): Promise<VerdictFile | undefined> {
  const key = r.artifacts['verdict']?.key;
  if (!key) return undefined;
  const body = await store.getOptional(key);
  if (!body) return undefined;
  // A file the page cannot read leaves its record without test output, not the page without records.
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = verdictFileSchema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

async function sampleDetail(
  store: ArtifactStore,
  r: Stored,
  traces: readonly TraceRef[],
  max: number,
): Promise<Detail> {
  const s = r.result;
  const latest = traces[traces.length - 1];
  const [verdict, trace] = await Promise.all([
    readVerdict(store, r),
    latest ? readTrace(store, latest.key).catch(() => undefined) : Promise.resolve(undefined),
  ]);
  const fields: Field[] = [{ label: 'Result', text: resultLines(r), kind: 'code' }];
  if (s.judgement)
    fields.push({
      label: 'Judge',
      text: `${s.judgement.category}: ${s.judgement.explanation}\n(judged by ${s.judgement.model}${s.judgement.cached ? ', cached' : ''})`,
    });
  if (s.code) fields.push(textField('Code', s.code, max, 'code', 'head'));
  else if (s.message) fields.push(textField('Why there is no code to run', s.message, max, 'code', 'tail'));
  fields.push(...testFields(r, verdict, max));
  if (trace && latest) fields.push(...traceFields(trace, latest, traces.length, max));
  return { title: `${s.model} · ${s.taskId} · sample ${s.sampleIndex}`, fields };
}

/** The records, keyed by job id, and the notes that say what the caps left out. */
export async function sampleDetails(
  store: ArtifactStore,
  runId: string,
  results: readonly Stored[],
  caps = detailCaps,
): Promise<{ details: Record<string, Detail>; notes: string[] }> {
  const ordered = [...results].sort(
    (a, b) => Number(isFailedSample(b.result)) - Number(isFailedSample(a.result)) || naturalCompare(a.jobId, b.jobId),
  );
  const chosen = ordered.slice(0, caps.maxSamples);
  const byJob = new Map<string, TraceRef[]>();
  for (const ref of await listTraces(store, runId)) byJob.set(ref.jobId, [...(byJob.get(ref.jobId) ?? []), ref]);
  const records = await mapLimit(chosen, 8, (r) => sampleDetail(store, r, byJob.get(r.jobId) ?? [], caps.fieldChars));
  const details: Record<string, Detail> = {};
  let spent = 0;
  let kept = 0;
  for (const [i, record] of records.entries()) {
    const r = chosen[i];
    if (!r) continue;
    spent += record.fields.reduce((n, f) => n + f.text.length, 0);
    if (spent > caps.totalChars) break;
    details[r.jobId] = record;
    kept += 1;
  }
  const notes = [
    `Each sample's code, test output, prompt and response are cut at ${caps.fieldChars.toLocaleString('en-US')} characters; the full files are under runs/${runId}/jobs/ and runs/${runId}/traces/.`,
  ];
  if (kept < results.length)
    notes.push(
      `Drill-down records for ${kept} of ${results.length} samples (failed samples first; the page is bounded at ${caps.maxSamples.toLocaleString('en-US')} records and ${(caps.totalChars / 1e6).toFixed(0)} million characters). Run evalfleet trace ${runId} <job> for any other.`,
    );
  return { details, notes };
}
