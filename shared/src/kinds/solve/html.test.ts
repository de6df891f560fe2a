// The solve page stays bounded on a big run, and a kind whose sections fail still gets a page.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ReportDoc } from '../../report/index.js';
import type { RunRecord, StoredResult } from '../../runs/index.js';
import { createArtifactStore, type ArtifactStore } from '../../storage/index.js';
import { defineKind, RESULT } from '../../workflow/index.js';
import { solveKind } from './index.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function tempStore(): Promise<ArtifactStore> {
  dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-html-'));
  const store = createArtifactStore({ kind: 'fs', root: dir });
  await store.ensureReady();
  return store;
}

const record = (kind: string, totalJobs: number): RunRecord => ({
  runId: 'big',
  kind,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  totalJobs,
  skippedJobs: 0,
  spec: { judgeModel: 'judge' },
  meta: {},
});

function pageData(html: string): ReportDoc {
  const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html)?.[1];
  return JSON.parse(json ?? 'null') as ReportDoc;
}

describe('solve report.html', () => {
  it('is bounded on a big run: capped records, cut fields, and a note that says so', async () => {
    const store = await tempStore();
    const results: StoredResult[] = [];
    for (const model of ['m1', 'm2', 'm3'])
      for (let t = 0; t < 400; t++)
        for (let s = 0; s < 5; s++) {
          const passed = (t + s) % 2 === 0;
          const jobId = `${model}/task/${t}/${s}`;
          results.push({
            runId: 'big',
            jobId,
            kind: 'solve',
            outcome: passed ? 'passed' : 'failed',
            result: {
              taskId: `task/${t}`,
              model,
              sampleIndex: s,
              category: `c${t % 7}`,
              verdict: passed ? 'passed' : 'failed',
              passed,
              code: `def f():\n${'    x = 1\n'.repeat(2000)}`,
              tests: [{ name: `test_${t}`, outcome: passed ? 'passed' : 'failed' }],
              ...(passed
                ? {}
                : {
                    message: `AssertionError: expected ${t} got ${s}`,
                    judgement: { category: 'off_by_one', explanation: 'x', model: 'judge', costUsd: 0, cached: false },
                  }),
              latencyMs: 10 + s,
              promptTokens: 100,
              completionTokens: 50 + t,
              costUsd: 0.001,
            },
            artifacts: {},
            attempt: 1,
            recordedAt: '2026-01-01T00:00:00.000Z',
          });
        }
    const key = await solveKind.html({ record: record('solve', results.length), results, store, reports: {} });
    const html = (await store.get(key)).toString('utf8');
    const data = pageData(html);

    expect(Object.keys(data.details)).toHaveLength(1000);
    // Failed samples first: every embedded record is a failed one (3 000 of the 6 000 failed).
    expect(Object.keys(data.details).every((id) => results.find((r) => r.jobId === id)?.outcome === 'failed')).toBe(
      true,
    );
    const code = Object.values(data.details).map((d) => d.fields.find((f) => f.label === 'Code'));
    expect(code.every((f) => f !== undefined && f.text.length <= 4002 && f.note?.includes('first 4,000'))).toBe(true);
    expect(data.notes.join('\n')).toContain('Drill-down records for 1000 of 6000 samples');
    // References to records only name embedded ones, a bounded number per cell.
    const tasks = data.sections.find((s) => s.id === 'tasks')?.blocks[0];
    expect(tasks?.type).toBe('matrix');
    if (tasks?.type !== 'matrix') return;
    const referenced = tasks.rows.flatMap((r) => r.cells.flatMap((c) => c?.details ?? []));
    expect(referenced.every((id) => id in data.details)).toBe(true);
    expect(html.length).toBeLessThan(12_000_000);
    // One cluster per (message pattern, test): the literals do not split them.
    const clusters = data.sections.find((s) => s.id === 'failures')?.blocks.find((b) => b.type === 'table');
    expect(clusters?.type === 'table' ? clusters.rows.length : 0).toBe(400);
    expect(data.sections.map((s) => s.id)).toEqual([
      'run',
      'models',
      'categories',
      'cost',
      'distributions',
      'tasks',
      'failures',
      'judge',
    ]);
  });

  it("says in the page when a kind's sections fail, and every kind gets the overview", async () => {
    const store = await tempStore();
    const broken = defineKind({
      name: 'broken',
      description: 'a kind whose sections throw',
      spec: z.object({}),
      messages: [],
      pipeline: { produce: { ok: RESULT } },
      expand: () => Promise.resolve({ jobs: [], meta: {} }),
      result: z.object({ index: z.number(), text: z.string() }),
      deadLettered: () => ({ index: 0, text: '' }),
      report: () => Promise.resolve({}),
      html: () => Promise.reject(new Error('boom')),
    });
    const results: StoredResult[] = [
      {
        runId: 'big',
        jobId: 'echo-0',
        kind: 'broken',
        outcome: 'ok',
        result: { index: 0, text: 'hi' },
        artifacts: {},
        attempt: 1,
        recordedAt: '2026-01-01T00:00:00.000Z',
      },
    ];
    const reports = await broken.report({ record: record('broken', 1), results, store });
    expect(reports['report.html']).toBe('runs/big/report.html');
    const data = pageData((await store.get('runs/big/report.html')).toString('utf8'));
    expect(data.notes).toEqual(["The broken kind's sections of this page failed: Error: boom"]);
    expect(data.sections.map((s) => s.id)).toEqual(['run']);
  });
});
