import { PermanentError } from '../../errors/index.js';
import {
  parseProblemSet,
  parseSamples,
  resolveSampleTask,
  selectProblems,
  datasetId,
  type Problem,
} from '../../datasets/index.js';
import type { ObjectRefField } from '../../messages/index.js';
import { mapLimit } from '../../report/clip.js';
import { encodeJobId } from '../../runs/index.js';
import type { ArtifactStore, ObjectRef } from '../../storage/index.js';
import type { ExpandContext, Expansion, PlannedJob } from '../../workflow/index.js';
import { TIMEOUTS } from './calibrate.js';
import type { SolveEvaluatePayload, SolveGeneratePayload, SolveSpec } from './messages.js';

async function loadText(store: ArtifactStore, ref: ObjectRefField, what: string): Promise<string> {
  const body = await store.getOptional(ref.key);
  if (!body) throw new PermanentError('dataset_missing', `${what} ${ref.key} is not in the artifact store`);
  return body.toString('utf8');
}

/** Each problem is stored once, by dataset and task, and travels in messages as a claim check. */
async function storeProblems(store: ArtifactStore, dsId: string, problems: Problem[]): Promise<Map<string, ObjectRef>> {
  const stored = await mapLimit(problems, 16, async (p) => {
    const key = `datasets/${dsId}/problems/${encodeJobId(p.taskId)}.json`;
    const { ref } = await store.putIfAbsent(key, JSON.stringify(p), { contentType: 'application/json' });
    return [p.taskId, ref] as const;
  });
  return new Map(stored);
}

export function solveJobId(model: string, taskId: string, sampleIndex: number): string {
  return `${model}/${taskId}/${sampleIndex}`;
}

/**
 * Expands a solve run: problem × model × sample → generate (`ok`), or, with a samples file,
 * one job per line straight to evaluation (`samples`; no model is called).
 */
export async function expandSolve(ctx: ExpandContext<SolveSpec>): Promise<Expansion> {
  const { spec } = ctx;
  const deps = ctx;
  const text = await loadText(deps.store, spec.dataset, 'dataset');
  const parsed = parseProblemSet(text, spec.datasetFormat ? { format: spec.datasetFormat } : {});
  if (parsed.problems.length === 0) {
    const first = parsed.errors[0];
    throw new PermanentError(
      'dataset_empty',
      `dataset has no usable problem${first ? ` (line ${first.line}: ${first.message})` : ''}`,
    );
  }
  const dsId = datasetId(text);
  if (spec.judgeModel !== undefined && !ctx.knownModels().has(spec.judgeModel))
    throw new PermanentError('unknown_model', `judge model not in the registry: ${spec.judgeModel}`);
  // Every job of a judged run carries the settings its failed sample is judged with.
  const judge: Pick<SolveEvaluatePayload, 'judge'> = spec.judgeModel
    ? {
        judge: {
          model: spec.judgeModel,
          noCache: spec.noCache,
          ...(spec.budgetUsd !== undefined ? { budgetUsd: spec.budgetUsd } : {}),
        },
      }
    : {};
  // No --timeout-ms: each task's limit is calibrated from its reference solution when it is evaluated.
  const timeouts: Pick<SolveEvaluatePayload, 'timeoutMs' | 'calibrate'> =
    spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : { timeoutMs: TIMEOUTS.defaultMs, calibrate: true };
  const meta: Record<string, unknown> = {
    datasetId: dsId,
    datasetFormat: parsed.format,
    datasetErrors: parsed.errors.slice(0, 100),
    models: spec.models,
    samplesPerTask: spec.samplesPerTask,
    timeouts: spec.timeoutMs !== undefined ? { fixedMs: spec.timeoutMs } : { calibrated: TIMEOUTS },
    ...(spec.judgeModel ? { judgeModel: spec.judgeModel } : {}),
  };

  if (spec.samples) {
    const samplesText = await loadText(deps.store, spec.samples, 'samples file');
    const parsedSamples = parseSamples(samplesText);
    const byId = new Map(parsed.problems.map((p) => [p.taskId, p]));
    const samples = parsedSamples.samples.map((s) => ({
      ...s,
      taskId: resolveSampleTask(s.taskId, byId) ?? s.taskId,
    }));
    const errors = parsedSamples.errors;
    const unknown = samples.filter((s) => !byId.has(s.taskId));
    if (unknown.length > 0) {
      throw new PermanentError(
        'unknown_task',
        `samples name tasks not in the dataset: ${[...new Set(unknown.map((s) => s.taskId))].slice(0, 5).join(', ')}`,
      );
    }
    const refs = await storeProblems(
      deps.store,
      dsId,
      [...new Set(samples.map((s) => s.taskId))].map((id) => byId.get(id)!),
    );
    const jobs: PlannedJob[] = samples.map((s) => {
      const problem = byId.get(s.taskId)!;
      const payload: SolveEvaluatePayload = {
        taskId: s.taskId,
        model: 'samples',
        sampleIndex: s.sampleIndex,
        category: problem.category,
        problem: refs.get(s.taskId)!,
        code: s.completion,
        mode: s.mode,
        ...timeouts,
        memoryMb: spec.memoryMb,
        sampleLine: s.lineIndex,
        ...judge,
      };
      return { jobId: `samples/${s.lineIndex}`, outcome: 'samples', payload };
    });
    return {
      jobs,
      meta: {
        ...meta,
        mode: 'samples',
        samplesKey: spec.samples.key,
        samplesErrors: errors.slice(0, 100),
        samplesLines: samples.length,
      },
    };
  }

  const known = ctx.knownModels();
  const missing = spec.models.filter((m) => !known.has(m));
  if (missing.length > 0)
    throw new PermanentError('unknown_model', `models not in the registry: ${missing.join(', ')}`);
  const problems = selectProblems(parsed.problems, {
    ...(spec.categories ? { categories: spec.categories } : {}),
    ...(spec.taskIds ? { taskIds: spec.taskIds } : {}),
    ...(spec.quickTest ? { perCategory: 1 } : {}),
    ...(spec.limit ? { limit: spec.limit } : {}),
  });
  if (problems.length === 0) throw new PermanentError('no_problems', 'the filters select no problem');
  const refs = await storeProblems(deps.store, dsId, problems);
  const jobs: PlannedJob[] = [];
  for (const model of spec.models) {
    for (const problem of problems) {
      for (let sampleIndex = 0; sampleIndex < spec.samplesPerTask; sampleIndex++) {
        const payload: SolveGeneratePayload = {
          taskId: problem.taskId,
          model,
          sampleIndex,
          category: problem.category,
          problem: refs.get(problem.taskId)!,
          temperature: spec.temperature,
          maxTokens: spec.maxTokens,
          ...timeouts,
          memoryMb: spec.memoryMb,
          ...(spec.budgetUsd !== undefined ? { budgetUsd: spec.budgetUsd } : {}),
          noCache: spec.noCache,
          ...judge,
        };
        jobs.push({ jobId: solveJobId(model, problem.taskId, sampleIndex), outcome: 'ok', payload });
      }
    }
  }
  return {
    jobs,
    meta: {
      ...meta,
      mode: 'models',
      problems: problems.length,
      categories: [...new Set(problems.map((p) => p.category))].sort(),
      tasks: problems.map((p) => ({ taskId: p.taskId, category: p.category })),
    },
  };
}
