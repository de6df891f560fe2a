import { PermanentError } from '../../errors/index.js';
import type { ObjectRefField } from '../../messages/index.js';
import { encodeJobId } from '../../runs/index.js';
import { datasetId } from '../../datasets/index.js';
import type { ArtifactStore } from '../../storage/index.js';
import type { ExpandContext, Expansion, PlannedJob } from '../../workflow/index.js';
import { parseBugs, parsePatches, type Bug } from './dataset.js';
import type { BaselinePayload, RepairSpec } from './messages.js';

async function loadText(store: ArtifactStore, ref: ObjectRefField, what: string): Promise<string> {
  const body = await store.getOptional(ref.key);
  if (!body) throw new PermanentError('dataset_missing', `${what} ${ref.key} is not in the artifact store`);
  return body.toString('utf8');
}

export function repairJobId(model: string, bugId: string, sampleIndex: number): string {
  return `${model}/${bugId}/${sampleIndex}`;
}

/** Bugs chosen by the spec's filters, in dataset order. */
export function selectBugs(bugs: readonly Bug[], spec: Pick<RepairSpec, 'bugIds' | 'categories' | 'limit'>): Bug[] {
  let out = [...bugs];
  if (spec.bugIds) out = out.filter((b) => spec.bugIds!.includes(b.bugId));
  if (spec.categories) out = out.filter((b) => spec.categories!.includes(b.category));
  if (spec.limit) out = out.slice(0, spec.limit);
  return out;
}

/**
 * Bug × model × sample → a baseline step (which finds what fails) and then the model's turns; with a
 * patches file, one job per line, applied and tested without any model.
 */
export async function expandRepair(ctx: ExpandContext<RepairSpec>): Promise<Expansion> {
  const { spec, store } = ctx;
  const text = await loadText(store, spec.dataset, 'dataset');
  const parsed = parseBugs(text);
  if (parsed.bugs.length === 0) {
    const first = parsed.errors[0];
    throw new PermanentError(
      'dataset_empty',
      `dataset has no usable bug${first ? ` (line ${first.line}: ${first.message})` : ''}`,
    );
  }
  const dsId = datasetId(text);
  const refs = new Map<string, ObjectRefField>();
  const stored = async (bug: Bug): Promise<ObjectRefField> => {
    const existing = refs.get(bug.bugId);
    if (existing) return existing;
    const { ref } = await store.putIfAbsent(
      `datasets/${dsId}/bugs/${encodeJobId(bug.bugId)}.json`,
      JSON.stringify(bug),
      {
        contentType: 'application/json',
      },
    );
    refs.set(bug.bugId, ref);
    return ref;
  };
  const common = {
    maxTurns: spec.maxTurns,
    temperature: spec.temperature,
    maxTokens: spec.maxTokens,
    timeoutMs: spec.timeoutMs,
    memoryMb: spec.memoryMb,
    ...(spec.budgetUsd !== undefined ? { budgetUsd: spec.budgetUsd } : {}),
    noCache: spec.noCache,
  };
  const meta = { datasetId: dsId, datasetErrors: parsed.errors.slice(0, 100), bugs: parsed.bugs.length };
  const byId = new Map(parsed.bugs.map((b) => [b.bugId, b]));
  const jobs: PlannedJob[] = [];

  if (spec.patches) {
    const patches = parsePatches(await loadText(store, spec.patches, 'patches file'));
    const unknown = patches.patches.filter((p) => !byId.has(p.bugId)).map((p) => p.bugId);
    if (unknown.length > 0)
      throw new PermanentError(
        'unknown_bug',
        `patches name bugs not in the dataset: ${[...new Set(unknown)].slice(0, 5).join(', ')}`,
      );
    for (const patch of patches.patches) {
      const bug = byId.get(patch.bugId)!;
      const payload: BaselinePayload = {
        bugId: bug.bugId,
        model: 'patches',
        sampleIndex: 0,
        category: bug.category,
        bug: await stored(bug),
        ...common,
        maxTurns: 1,
        given: { line: patch.line, answer: patch.completion },
      };
      jobs.push({ jobId: `patches/${patch.line}`, outcome: 'ok', payload });
    }
    return {
      jobs,
      meta: { ...meta, mode: 'patches', patchesKey: spec.patches.key, patchesErrors: patches.errors.slice(0, 100) },
    };
  }

  const known = ctx.knownModels();
  const missing = spec.models.filter((m) => !known.has(m));
  if (missing.length > 0)
    throw new PermanentError('unknown_model', `models not in the registry: ${missing.join(', ')}`);
  const bugs = selectBugs(parsed.bugs, spec);
  if (bugs.length === 0) throw new PermanentError('no_bugs', 'the filters select no bug');
  for (const model of spec.models) {
    for (const bug of bugs) {
      for (let sampleIndex = 0; sampleIndex < spec.samples; sampleIndex++) {
        const payload: BaselinePayload = {
          bugId: bug.bugId,
          model,
          sampleIndex,
          category: bug.category,
          bug: await stored(bug),
          ...common,
        };
        jobs.push({ jobId: repairJobId(model, bug.bugId, sampleIndex), outcome: 'ok', payload });
      }
    }
  }
  return {
    jobs,
    meta: {
      ...meta,
      mode: 'models',
      models: spec.models,
      samples: spec.samples,
      maxTurns: spec.maxTurns,
      categories: [...new Set(bugs.map((b) => b.category))].sort(),
    },
  };
}
