import { createHash } from 'node:crypto';
import { PermanentError } from '../../errors/index.js';
import type { ObjectRefField } from '../../messages/index.js';
import { contentKey, type ArtifactStore } from '../../storage/index.js';
import type { ExpandContext, Expansion, PlannedJob } from '../../workflow/index.js';
import type { PromptSpec, PromptStagePayload } from './messages.js';
import { parsePipeline, pipelineModels, type PromptPipeline } from './pipeline.js';
import { checkRecordFields, parseRecords, selectRecords, type PromptRecord } from './records.js';

const safeJobId = /^[A-Za-z0-9._:@/+-]{1,180}$/;

/**
 * The job id of a record: its id when the envelope allows it, else a readable form of it plus a
 * hash of the original, so two ids that read alike never share a job.
 */
export function promptJobId(id: string): string {
  if (safeJobId.test(id)) return id;
  const readable = id.replace(/[^A-Za-z0-9._:@/+-]+/g, '_').slice(0, 120) || 'record';
  return `${readable}-${createHash('sha256').update(id).digest('hex').slice(0, 12)}`;
}

export async function loadText(store: ArtifactStore, ref: ObjectRefField, what: string): Promise<string> {
  const body = await store.getOptional(ref.key);
  if (!body) throw new PermanentError('dataset_missing', `${what} ${ref.key} is not in the artifact store`);
  return body.toString('utf8');
}

/** Parses the pipeline and the records a run names; a problem in either is permanent. */
export async function loadRun(
  store: ArtifactStore,
  spec: Pick<PromptSpec, 'pipeline' | 'records' | 'idField'>,
): Promise<{ pipeline: PromptPipeline; records: PromptRecord[] }> {
  const permanent = <T>(code: string, f: () => T): T => {
    try {
      return f();
    } catch (err) {
      throw new PermanentError(code, err instanceof Error ? err.message : String(err), { cause: err });
    }
  };
  const pipelineText = await loadText(store, spec.pipeline, 'pipeline');
  const recordsText = await loadText(store, spec.records, 'records');
  const pipeline = permanent('invalid_pipeline', () => parsePipeline(pipelineText));
  const records = permanent('invalid_records', () => parseRecords(recordsText, spec.idField));
  return { pipeline, records };
}

/** Each record becomes its own artifact by content hash (claim check), shared across runs. */
async function storeRecords(store: ArtifactStore, records: readonly PromptRecord[]): Promise<ObjectRefField[]> {
  const refs: ObjectRefField[] = [];
  const batch = 16;
  for (let i = 0; i < records.length; i += batch) {
    const slice = records.slice(i, i + batch);
    const stored = await Promise.all(
      slice.map(async (r) => {
        const body = JSON.stringify(r.data);
        const { ref } = await store.putIfAbsent(contentKey('datasets/prompt-records', body, '.json'), body, {
          contentType: 'application/json',
        });
        return ref;
      }),
    );
    refs.push(...stored);
  }
  return refs;
}

/** One job per selected record, starting at the pipeline's first stage. */
export async function expandPrompt(ctx: ExpandContext<PromptSpec>): Promise<Expansion> {
  const { spec, store } = ctx;
  const { pipeline, records } = await loadRun(store, spec);
  const known = ctx.knownModels();
  const unknown = pipelineModels(pipeline).filter((m) => !known.has(m));
  if (unknown.length > 0)
    throw new PermanentError('unknown_model', `models not in the registry: ${unknown.join(', ')}`);
  const selected = selectRecords(records, spec.limit);
  try {
    checkRecordFields(pipeline, selected);
  } catch (err) {
    throw new PermanentError('invalid_records', err instanceof Error ? err.message : String(err), { cause: err });
  }
  const refs = await storeRecords(store, selected);
  const jobs: PlannedJob[] = selected.map((r, i) => {
    const payload: PromptStagePayload = {
      id: r.id,
      record: refs[i]!,
      pipeline: spec.pipeline,
      stages: {},
      stageIndex: 0,
      stageCount: pipeline.stages.length,
      ...(spec.budgetUsd !== undefined ? { budgetUsd: spec.budgetUsd } : {}),
      noCache: spec.noCache,
    };
    return { jobId: promptJobId(r.id), outcome: 'ok', payload };
  });
  return {
    jobs,
    meta: {
      pipelineName: pipeline.name ?? null,
      stages: pipeline.stages.map((s) => ({ name: s.name, model: s.model, when: s.when ?? null })),
      records: records.length,
      selected: selected.length,
      idField: spec.idField,
    },
  };
}
