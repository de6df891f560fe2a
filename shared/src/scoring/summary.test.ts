import { describe, expect, it } from 'vitest';
import { compare, summarize, type ResultRow, type Verdict } from './index.js';

function row(
  model: string,
  taskId: string,
  sampleIndex: number,
  verdict: Verdict,
  extra: Partial<ResultRow> = {},
): ResultRow {
  return {
    runId: 'run-1',
    model,
    taskId,
    sampleIndex,
    category: taskId.split('/')[0] ?? 'x',
    verdict,
    passed: verdict === 'passed',
    ...extra,
  };
}

function samples(model: string, taskId: string, pattern: string, extra: Partial<ResultRow> = {}): ResultRow[] {
  // 'P' passed, 'F' failed, 'N' no_code, 'S' syntax_error, 'I' infra_error, 'B' budget_exhausted, 'T' timeout,
  // 'D' dead_lettered
  const map: Record<string, Verdict> = {
    P: 'passed',
    F: 'failed',
    N: 'no_code',
    S: 'syntax_error',
    I: 'infra_error',
    B: 'budget_exhausted',
    T: 'timeout',
    D: 'dead_lettered',
  };
  return [...pattern].map((ch, i) => row(model, taskId, i, map[ch] ?? 'failed', extra));
}

describe('summarize', () => {
  it('computes pass@k for every k up to n on a uniform run', () => {
    const rows = [
      ...samples('m', 'strings/a', 'PPFFF'),
      ...samples('m', 'strings/b', 'FFFFF'),
      ...samples('m', 'math/c', 'PPPPP'),
    ];
    const summary = summarize(rows);
    const model = summary.models[0]!;
    expect(model.passAtK.map((e) => e.k)).toEqual([1, 2, 3, 4, 5]);
    // task a: 0.4, 0.7, 0.9, 1, 1; task b: 0; task c: 1.
    const expected = [(0.4 + 1) / 3, (0.7 + 1) / 3, (0.9 + 1) / 3, 2 / 3, 2 / 3];
    model.passAtK.forEach((entry, i) => {
      expect(entry.value).toBeCloseTo(expected[i]!, 12);
      expect(entry.tasks).toBe(3);
    });
    expect(model).toMatchObject({
      samples: 15,
      scoredSamples: 15,
      passedSamples: 7,
      tasks: 3,
      solvedTasks: 2,
      samplesPerTask: { min: 5, max: 5 },
    });
  });

  it('averages pass@k only over tasks with at least k samples when n differs', () => {
    const rows = [...samples('m', 't/1', 'PF'), ...samples('m', 't/2', 'FFPF'), ...samples('m', 't/3', 'F')];
    const entries = summarize(rows).models[0]!.passAtK;
    expect(entries.map((e) => [e.k, e.tasks])).toEqual([
      [1, 3],
      [2, 2],
      [3, 1],
      [4, 1],
    ]);
    expect(entries[0]!.value).toBeCloseTo((0.5 + 0.25 + 0) / 3, 12);
    expect(entries[1]!.value).toBeCloseTo((1 + 0.5) / 2, 12);
    expect(entries[2]!.value).toBeCloseTo(0.75, 12);
    expect(entries[3]!.value).toBe(1);
  });

  it('honours an explicit list of k and skips k no task reaches', () => {
    const rows = samples('m', 't/1', 'PFFFF');
    expect(summarize(rows, { ks: [1, 5, 10] }).models[0]!.passAtK).toEqual([
      { k: 1, value: 0.2, tasks: 1 },
      { k: 5, value: 1, tasks: 1 },
    ]);
  });

  it('leaves infra errors, budget stops and dead letters out of pass@k and the rates, but counts them', () => {
    const rows = [...samples('m', 't/1', 'PNSFIBD'), ...samples('m', 't/2', 'BB')];
    const model = summarize(rows).models[0]!;
    expect(model.samples).toBe(9);
    expect(model.scoredSamples).toBe(4);
    expect(model.tasks).toBe(2);
    expect(model.passAtK).toEqual([
      { k: 1, value: 0.25, tasks: 1 },
      { k: 2, value: 0.5, tasks: 1 },
      { k: 3, value: 0.75, tasks: 1 },
      { k: 4, value: 1, tasks: 1 },
    ]);
    expect(model.noCodeRate).toBe(0.25);
    expect(model.syntaxErrorRate).toBe(0.25);
    expect(model.budgetExhausted).toBe(3);
    expect(model.infraErrors).toBe(1);
    expect(model.deadLettered).toBe(1);
    expect(model.verdicts).toEqual({
      passed: 1,
      failed: 1,
      error: 0,
      timeout: 0,
      oom: 0,
      infra_error: 1,
      no_code: 1,
      syntax_error: 1,
      budget_exhausted: 3,
      dead_lettered: 1,
    });
    expect(model.samplesPerTask).toEqual({ min: 0, max: 4 });
  });

  it('reports pass@1 per category', () => {
    const rows = [
      ...samples('m', 'strings/a', 'PF'),
      ...samples('m', 'strings/b', 'PP'),
      ...samples('m', 'math/c', 'FF'),
      ...samples('m', 'io/d', 'I'),
    ];
    expect(summarize(rows).models[0]!.categories).toEqual([
      { category: 'io', tasks: 1, samples: 0, passedSamples: 0, solvedTasks: 0, passAt1: null },
      { category: 'math', tasks: 1, samples: 2, passedSamples: 0, solvedTasks: 0, passAt1: 0 },
      { category: 'strings', tasks: 2, samples: 4, passedSamples: 3, solvedTasks: 2, passAt1: 0.75 },
    ]);
  });

  it('sums tokens and cost, and divides cost by solved tasks', () => {
    const rows = [
      row('m', 't/1', 0, 'passed', { promptTokens: 100, completionTokens: 50, costUsd: 0.25 }),
      row('m', 't/1', 1, 'failed', { promptTokens: 100, completionTokens: 70, costUsd: 0.25 }),
      row('m', 't/2', 0, 'failed', { promptTokens: 80, completionTokens: 20, costUsd: 0.5 }),
      row('m', 't/3', 0, 'passed', { cached: true, promptTokens: 80, completionTokens: 20 }),
    ];
    const model = summarize(rows).models[0]!;
    expect(model.tokens).toEqual({ prompt: 360, completion: 160, total: 520 });
    expect(model.costUsd).toBe(1);
    expect(model.costPerSolvedTask).toBe(0.5);
    expect(model.cached).toBe(1);
    expect(summarize(samples('z', 't/1', 'FF', { costUsd: 0.1 })).models[0]!.costPerSolvedTask).toBeNull();
  });

  it('computes latency percentiles over uncached calls and sandbox durations', () => {
    const rows = Array.from({ length: 10 }, (_, i) =>
      row('m', `t/${i}`, 0, 'passed', { latencyMs: (i + 1) * 100, durationMs: 50 }),
    );
    rows.push(row('m', 't/99', 0, 'passed', { latencyMs: 1, cached: true }));
    const model = summarize(rows).models[0]!;
    expect(model.latencyMs).toEqual({
      count: 10,
      mean: 550,
      p50: 550,
      p90: 910,
      p99: expect.closeTo(991, 9) as number,
    });
    expect(model.durationMs).toMatchObject({ count: 10, p50: 50 });
    expect(summarize(samples('m', 't/1', 'P')).models[0]!.latencyMs).toBeNull();
  });

  it('counts a redelivered result once (the last row wins) and orders models and output deterministically', () => {
    const rows = [
      row('zeta', 't/1', 0, 'failed'),
      row('alpha', 't/1', 0, 'failed'),
      row('alpha', 't/1', 0, 'passed'),
      row('alpha', 't/10', 0, 'passed'),
      row('alpha', 't/2', 0, 'failed'),
    ];
    const summary = summarize(rows);
    expect(summary.models.map((m) => m.model)).toEqual(['alpha', 'zeta']);
    expect(summary.models[0]).toMatchObject({ samples: 3, passedSamples: 2, solvedTasks: 2 });
    expect(summary.totals).toEqual({ models: 2, tasks: 3, samples: 4, costUsd: 0 });
    // Another input order gives the same summary, as long as the duplicate keeps its relative order.
    const reordered = [rows[0]!, rows[3]!, rows[4]!, rows[1]!, rows[2]!];
    expect(summarize(reordered)).toEqual(summary);
  });

  it('handles an empty result set', () => {
    expect(summarize([])).toEqual({ models: [], totals: { models: 0, tasks: 0, samples: 0, costUsd: 0 } });
  });
});

describe('compare', () => {
  it('lines models up per task', () => {
    const rows = [
      ...samples('gpt', 'strings/2', 'PF', { latencyMs: 100 }),
      ...samples('claude', 'strings/2', 'PP', { latencyMs: 300 }),
      ...samples('gpt', 'strings/10', 'FF'),
      ...samples('claude', 'math/1', 'I'),
    ];
    expect(compare(rows)).toEqual({
      models: ['claude', 'gpt'],
      categories: ['math', 'strings'],
      tasks: [
        {
          taskId: 'math/1',
          category: 'math',
          models: { claude: { samples: 0, passed: 0, passAt1: null, meanLatencyMs: null } },
          solvedBy: [],
        },
        {
          taskId: 'strings/2',
          category: 'strings',
          models: {
            claude: { samples: 2, passed: 2, passAt1: 1, meanLatencyMs: 300 },
            gpt: { samples: 2, passed: 1, passAt1: 0.5, meanLatencyMs: 100 },
          },
          solvedBy: ['claude', 'gpt'],
        },
        {
          taskId: 'strings/10',
          category: 'strings',
          models: { gpt: { samples: 2, passed: 0, passAt1: 0, meanLatencyMs: null } },
          solvedBy: [],
        },
      ],
    });
  });
});
