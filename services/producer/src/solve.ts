import { PermanentError } from '@evalfleet/shared/errors';
import {
  parseProblemSet,
  parseSamples,
  resolveSampleTask,
  selectProblems,
  datasetId,
  type Problem,
} from '@evalfleet/shared/datasets';
import { makeEnvelope, type RunRequested, type ObjectRefField } from '@evalfleet/shared/messages';
import { encodeJobId } from '@evalfleet/shared/runs';
import type { SolveSpec } from '@evalfleet/shared/solve';
import type { ArtifactStore, ObjectRef } from '@evalfleet/shared/storage';
import type { Expansion, PlannedJob } from './expand.js';

export type SolveExpanderDeps = {
  store: ArtifactStore;
  /** Model names the registry knows; unknown ones are a permanent error of the whole run. */
  knownModels: () => Set<string>;
};

async function loadText(store: ArtifactStore, ref: ObjectRefField, what: string): Promise<string> {
  const body = await store.getOptional(ref.key);
  if (!body) throw new PermanentError('dataset_missing', `${what} ${ref.key} is not in the artifact store`);
  return body.toString('utf8');
}

/** Each problem is stored once, by dataset and task, and travels in messages as a claim check. */
async function storeProblems(store: ArtifactStore, dsId: string, problems: Problem[]): Promise<Map<string, ObjectRef>> {
  const refs = new Map<string, ObjectRef>();
  for (const p of problems) {
    const key = `datasets/${dsId}/problems/${encodeJobId(p.taskId)}.json`;
    const { ref } = await store.putIfAbsent(key, JSON.stringify(p), { contentType: 'application/json' });
    refs.set(p.taskId, ref);
  }
  return refs;
}

export function solveJobId(model: string, taskId: string, sampleIndex: number): string {
  return `${model}/${taskId}/${sampleIndex}`;
}

/**
 * Expands a solve run: problem × model × sample → `solve.generate`, or, with a samples file,
 * one `solve.evaluate` per line (no model is called).
 */
export function makeSolveExpander(deps: SolveExpanderDeps) {
  return async (runId: string, request: Extract<RunRequested, { kind: 'solve' }>): Promise<Expansion> => {
    const spec: SolveSpec = request.spec;
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
    const meta: Record<string, unknown> = {
      datasetId: dsId,
      datasetFormat: parsed.format,
      datasetErrors: parsed.errors.slice(0, 100),
      models: spec.models,
      samplesPerTask: spec.samplesPerTask,
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
        const jobId = `samples/${s.lineIndex}`;
        return {
          jobId,
          envelope: () =>
            makeEnvelope({
              type: 'solve.evaluate',
              runId,
              jobId,
              kind: 'solve',
              stage: 'evaluate',
              payload: {
                taskId: s.taskId,
                model: 'samples',
                sampleIndex: s.sampleIndex,
                category: problem.category,
                problem: refs.get(s.taskId)!,
                code: s.completion,
                mode: s.mode,
                timeoutMs: spec.timeoutMs,
                memoryMb: spec.memoryMb,
                sampleLine: s.lineIndex,
              },
            }),
        };
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

    const known = deps.knownModels();
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
          const jobId = solveJobId(model, problem.taskId, sampleIndex);
          jobs.push({
            jobId,
            envelope: () =>
              makeEnvelope({
                type: 'solve.generate',
                runId,
                jobId,
                kind: 'solve',
                stage: 'generate',
                payload: {
                  taskId: problem.taskId,
                  model,
                  sampleIndex,
                  category: problem.category,
                  problem: refs.get(problem.taskId)!,
                  temperature: spec.temperature,
                  maxTokens: spec.maxTokens,
                  timeoutMs: spec.timeoutMs,
                  memoryMb: spec.memoryMb,
                  ...(spec.budgetUsd !== undefined ? { budgetUsd: spec.budgetUsd } : {}),
                  noCache: spec.noCache,
                },
              }),
          });
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
  };
}
