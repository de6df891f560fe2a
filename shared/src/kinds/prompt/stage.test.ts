// The stage handler against a scripted models capability and a real filesystem store: every
// branch of a stage (answer, retry with the validation errors, cache, when, missing upstream
// answer, malformed reply, spent budget) and what it emits.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../../errors/index.js';
import { createLogger } from '../../logger/index.js';
import { makeEnvelope } from '../../messages/index.js';
import { FsArtifactStore } from '../../storage/index.js';
import type { JobContext, ModelCallOutcome, ModelCallRequest } from '../../workflow/index.js';
import type { PromptStagePayload, StageRecord } from './messages.js';
import { stageHandler } from './stage.js';

const pipelineYaml = `
defaults: { model: m, max_retries: 2 }
stages:
  - name: classify
    system: Classify.
    user: "{{title}}"
    schema:
      type: object
      properties: { is_bug: { type: boolean } }
      required: [is_bug]
  - name: cause
    when: stages.classify.is_bug == true
    user: "Cause of {{title}} ({{stages.classify.is_bug}})?"
    schema: { type: object, properties: { category: { enum: [memory, logic] } }, required: [category] }
`;

let dir: string;
let store: FsArtifactStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'prompt-stage-'));
  store = new FsArtifactStore({ root: dir });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Emitted = { outcome: string; payload: PromptStagePayload };

function answer(text: string, cached = false): ModelCallOutcome {
  return {
    kind: 'answer',
    answer: { text, promptTokens: 10, completionTokens: 5, costUsd: 0.001, latencyMs: 1, cached },
  };
}

/** Runs one stage message; the capability answers from `script` in order and records each request. */
async function runStage(
  stages: PromptStagePayload['stages'],
  stageIndex: number,
  script: ModelCallOutcome[],
  yaml = pipelineYaml,
) {
  const pipeline = await store.put('pipelines/p.yaml', yaml);
  const record = await store.put('records/r.json', JSON.stringify({ id: 'r1', title: 'crash on load' }));
  const requests: ModelCallRequest[] = [];
  const emitted: Emitted[] = [];
  const payload: PromptStagePayload = { id: 'r1', record, pipeline, stages, stageIndex, stageCount: 2, noCache: false };
  const env = makeEnvelope({
    type: 'prompt.stage',
    runId: 'run1',
    jobId: 'r1',
    kind: 'prompt',
    stage: 'generate',
    payload,
  });
  const ctx: JobContext = {
    env,
    signal: new AbortController().signal,
    logger: createLogger({ service: 'test' }, { level: 'silent' }),
    store,
    caps: {
      models: {
        call: (req) => {
          requests.push({ ...req, messages: [...req.messages] });
          const next = script.shift();
          if (!next) throw new Error('the script ran out of answers');
          return Promise.resolve(next);
        },
      },
    },
    emit: (outcome, p) => {
      emitted.push({ outcome, payload: p as PromptStagePayload });
      return Promise.resolve();
    },
  };
  await stageHandler(store).run(payload, ctx);
  expect(emitted).toHaveLength(1);
  const [only] = emitted;
  return { requests, outcome: only!.outcome, next: only!.payload };
}

const okClassify: StageRecord = {
  outcome: 'ok',
  answer: { is_bug: true },
  tries: 1,
  calls: 1,
  cached: 0,
  promptTokens: 10,
  completionTokens: 5,
  costUsd: 0.001,
};

describe('prompt.stage', () => {
  it('asks with the rendered prompt and the schema, and moves to the next stage with the answer', async () => {
    const { requests, outcome, next } = await runStage({}, 0, [answer('{"is_bug": true}')]);
    expect(outcome).toBe('ok');
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      runId: 'run1',
      jobId: 'r1/classify/try-0',
      model: 'm',
      temperature: 0,
      maxTokens: 1024,
      sampleIndex: 0,
      messages: [
        { role: 'system', content: 'Classify.' },
        { role: 'user', content: 'crash on load' },
      ],
      jsonSchema: { name: 'classify' },
    });
    expect(next.stageIndex).toBe(1);
    expect(next.stages).toEqual({ classify: okClassify });
  });

  it('retries an invalid answer in the same conversation with its errors, then accepts a valid one', async () => {
    const { requests, outcome, next } = await runStage({}, 0, [
      answer('Sure! {"is_bug": tr'),
      answer('{"is_bug": "yes"}', true),
      answer('```json\n{"is_bug": false}\n```'),
    ]);
    expect(outcome).toBe('ok');
    expect(requests.map((r) => r.messages.length)).toEqual([2, 4, 6]);
    expect(requests.map((r) => r.jobId)).toEqual(['r1/classify/try-0', 'r1/classify/try-1', 'r1/classify/try-2']);
    const second = requests[1]!.messages;
    expect(second[2]).toEqual({ role: 'assistant', content: 'Sure! {"is_bug": tr' });
    expect(second[3]?.content).toMatch(/^Your previous answer was rejected: the answer is not valid JSON/);
    const third = requests[2]!.messages;
    expect(third[5]?.content).toContain('- answer/is_bug must be boolean');
    expect(next.stages['classify']).toEqual({
      outcome: 'ok',
      answer: { is_bug: false },
      tries: 3,
      calls: 2,
      cached: 1,
      promptTokens: 30,
      completionTokens: 15,
      costUsd: 0.003,
    });
  });

  it('records invalid_answer with the last errors once the retries are spent', async () => {
    const { requests, outcome, next } = await runStage({}, 0, [answer('{}'), answer('{}'), answer('[]')]);
    expect(outcome).toBe('invalid_answer');
    expect(requests).toHaveLength(3);
    expect(next.stages['classify']).toMatchObject({
      outcome: 'invalid_answer',
      answer: null,
      tries: 3,
      calls: 3,
      reason: 'the answer does not match the JSON schema',
      errors: ['the answer must be object'],
    });
  });

  it('skips a stage whose when is false, without a call', async () => {
    const classify = { ...okClassify, answer: { is_bug: false } };
    const { requests, outcome, next } = await runStage({ classify }, 1, []);
    expect(outcome).toBe('skipped');
    expect(requests).toHaveLength(0);
    expect(next.stageIndex).toBe(2);
    expect(next.stages['cause']).toMatchObject({
      outcome: 'skipped',
      answer: null,
      reason: 'when: stages.classify.is_bug == true',
      calls: 0,
    });
  });

  it('runs a stage whose when holds, with the earlier answer in its prompt', async () => {
    const { requests, outcome, next } = await runStage({ classify: okClassify }, 1, [answer('{"category":"memory"}')]);
    expect(outcome).toBe('ok');
    expect(requests[0]?.messages).toEqual([{ role: 'user', content: 'Cause of crash on load (true)?' }]);
    expect(next.stages['cause']?.answer).toEqual({ category: 'memory' });
  });

  it('skips a stage whose prompt needs an earlier stage that gave no answer', async () => {
    const unconditional = pipelineYaml.replace('    when: stages.classify.is_bug == true\n', '');
    const failed: StageRecord = { ...okClassify, outcome: 'invalid_answer', answer: null };
    const { requests, outcome, next } = await runStage({ classify: failed }, 1, [], unconditional);
    expect(outcome).toBe('skipped');
    expect(requests).toHaveLength(0);
    expect(next.stages['cause']?.reason).toBe('no answer from classify');
  });

  it('records a malformed reply and a spent budget as outcomes', async () => {
    const malformed = await runStage({}, 0, [
      { kind: 'malformed', message: 'not a completion', promptTokens: 7, costUsd: 0.0001, latencyMs: 1 },
    ]);
    expect(malformed.outcome).toBe('malformed');
    expect(malformed.next.stages['classify']).toMatchObject({ tries: 1, calls: 1, promptTokens: 7, answer: null });
    const budget = await runStage({}, 0, [{ kind: 'budget_exhausted', spentUsd: 2 }]);
    expect(budget.outcome).toBe('budget_exhausted');
    expect(budget.next.stages['classify']).toMatchObject({ tries: 0, calls: 0, answer: null });
  });

  it('refuses a message whose stage is not in the pipeline', async () => {
    await expect(runStage({}, 2, [])).rejects.toBeInstanceOf(PermanentError);
  });
});
