// The prompt run's reports from stored results alone (no fleet): per-stage JSONL, merged.jsonl,
// results.csv, summary.json and report.html, including a record that was dead-lettered mid-way.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord, StoredResult } from '../../runs/index.js';
import { FsArtifactStore } from '../../storage/index.js';
import { promptKind } from './index.js';
import type { PromptResult, StageRecord } from './messages.js';
import type { PromptSummary } from './report.js';

const pipelineYaml = `
name: tiny
defaults: { model: m }
stages:
  - name: classify
    user: "{{title}}"
    schema:
      type: object
      properties: { is_bug: { type: boolean }, note: { type: object } }
      required: [is_bug]
  - name: cause
    when: stages.classify.is_bug
    user: "{{title}}"
    schema: { type: object, properties: { category: { enum: [memory, logic] } } }
`;

let dir: string;
let store: FsArtifactStore;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'prompt-report-'));
  store = new FsArtifactStore({ root: dir });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const usage = { tries: 1, calls: 1, cached: 0, promptTokens: 10, completionTokens: 4, costUsd: 0.25 };
const ok = (answer: unknown): StageRecord => ({ outcome: 'ok', answer, ...usage });
const skipped: StageRecord = { outcome: 'skipped', answer: null, reason: 'when: stages.classify.is_bug', ...usage };

function stored(result: PromptResult, outcome: string): StoredResult {
  return {
    runId: 'run-r',
    jobId: result.id,
    kind: 'prompt',
    outcome,
    result,
    artifacts: {},
    attempt: 1,
    recordedAt: '2024-01-01T00:00:00.000Z',
  };
}

describe('prompt reports', () => {
  it('writes every report with exact counts, a dead-lettered record apart', async () => {
    const pipeline = await store.put('pipelines/p.yaml', pipelineYaml);
    const records = await store.put(
      'datasets/r.jsonl',
      ['a', 'b', 'c', 'd'].map((id) => JSON.stringify({ id, title: `T ${id}` })).join('\n'),
    );
    const record: RunRecord = {
      runId: 'run-r',
      kind: 'prompt',
      createdAt: '2024-01-01T00:00:00.000Z',
      updatedAt: '2024-01-01T00:00:00.000Z',
      totalJobs: 4,
      skippedJobs: 0,
      spec: { pipeline, records, idField: 'id', noCache: false },
      meta: {},
    };
    const results = [
      stored({ id: 'b', stages: { classify: ok({ is_bug: false }), cause: skipped } }, 'skipped'),
      stored(
        { id: 'a', stages: { classify: ok({ is_bug: true, note: { x: 1 } }), cause: ok({ category: 'memory' }) } },
        'ok',
      ),
      stored(
        promptKind.deadLettered({
          jobId: 'c',
          type: 'prompt.stage',
          stage: 'generate',
          code: 'attempts_exhausted',
          message: 'provider down',
          payload: { id: 'c', stages: { classify: ok({ is_bug: true }) }, stageIndex: 1 },
        }) as PromptResult,
        'dead_lettered',
      ),
      stored(
        {
          id: 'd',
          stages: { classify: { ...usage, outcome: 'invalid_answer', answer: null, errors: ['e1'] }, cause: skipped },
        },
        'skipped',
      ),
    ];
    const reports = await promptKind.report({ record, results, store });
    expect(Object.keys(reports).sort()).toEqual([
      'merged.jsonl',
      'report.html',
      'results.csv',
      'stages/cause.jsonl',
      'stages/classify.jsonl',
      'summary.json',
    ]);
    const text = async (name: string) => (await store.get(reports[name]!)).toString('utf8');
    const lines = async (name: string) =>
      (await text(name))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);

    // Rows follow the records file.
    expect((await lines('stages/cause.jsonl')).map((r) => [r['id'], r['outcome']])).toEqual([
      ['a', 'ok'],
      ['b', 'skipped'],
      ['c', 'dead_lettered'],
      ['d', 'skipped'],
    ]);
    expect(await lines('merged.jsonl')).toEqual([
      { id: 'a', title: 'T a', stages: { classify: { is_bug: true, note: { x: 1 } }, cause: { category: 'memory' } } },
      { id: 'b', title: 'T b', stages: { classify: { is_bug: false }, cause: null } },
      { id: 'c', title: 'T c', stages: { classify: { is_bug: true }, cause: null } },
      { id: 'd', title: 'T d', stages: { classify: null, cause: null } },
    ]);
    // Only scalar fields become columns (note is an object).
    expect(await text('results.csv')).toBe(
      [
        'id,classify.outcome,classify.is_bug,cause.outcome,cause.category',
        'a,ok,true,ok,memory',
        'b,ok,false,skipped,',
        'c,ok,true,dead_lettered,',
        'd,invalid_answer,,skipped,',
        '',
      ].join('\r\n'),
    );

    const summary = JSON.parse(await text('summary.json')) as PromptSummary;
    const [classify, cause] = summary.stages;
    expect(classify?.outcomes).toMatchObject({ ok: 3, invalid_answer: 1, dead_lettered: 0, not_run: 0 });
    expect(cause?.outcomes).toMatchObject({ ok: 1, skipped: 2, dead_lettered: 1 });
    expect(summary.calls).toBe(7);
    expect(summary.costUsd).toBe(1.75);
    expect(summary.jobs).toEqual({ complete: 2, incomplete: 1, dead_lettered: 1 });
    expect(summary.deadLettered).toEqual({
      count: 1,
      byStage: { generate: { attempts_exhausted: 1 } },
      requeue: ['evalfleet dlq requeue generate'],
    });

    const html = await text('report.html');
    expect(html).not.toContain('sections of this page failed');
    expect(html).toContain('Pipeline stages');
    expect(html).toContain('record:c');
  });
});
