// Cost control and the response cache through the real fleet: a run stops calling models at
// its budget (the rest end as budget_exhausted, spend never passes the budget), and a repeated
// run is answered from the cache without one provider call.
import { afterEach, describe, expect, it } from 'vitest';
import { startSolveFleet, type SolveFleet } from './support/solve-fleet.js';
import { cli } from './support/cli.js';

let fleet: SolveFleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

type ModelSummary = {
  model: string;
  samples: number;
  verdicts: Record<string, number>;
  costUsd: number;
  cached: number;
  budgetExhausted: number;
};
type Summary = { models: ModelSummary[]; totals: { costUsd: number } };

describe('budget and cache', () => {
  it('stops spending at the budget and never pays twice for the same answer', { timeout: 240_000 }, async () => {
    fleet = await startSolveFleet('budget');
    const { env } = fleet;
    const budget = 0.005;
    const a = await cli(
      env,
      'submit',
      'solve',
      '--dataset',
      'datasets/solve-example.jsonl',
      '--models',
      'good',
      '--budget-usd',
      String(budget),
      '--run-id',
      'budget-run',
      '--wait',
      '--json',
    );
    expect(a.code, a.err).toBe(0);
    const s1 = JSON.parse(a.out) as Summary;
    const good = s1.models.find((m) => m.model === 'good')!;
    const calls = fleet.provider.log().filter((x) => x.status === 200).length;
    expect(good.samples).toBe(27);
    expect(good.budgetExhausted).toBeGreaterThan(0);
    expect(good.budgetExhausted + calls).toBe(27);
    expect(good.verdicts.passed).toBe(calls);
    expect(good.costUsd).toBeLessThanOrEqual(budget);
    expect(good.costUsd).toBeGreaterThan(0);
    const report = await cli(env, 'report', 'budget-run');
    expect(report.out).toMatch(/run budget reached — \d+ of 27 jobs ended budget_exhausted/);

    // Same requests in a new run without a budget: the answers already bought come from the
    // cache (free, no provider call); only the rest are called.
    const before = fleet.provider.log().length;
    const b = await cli(
      env,
      'submit',
      'solve',
      '--dataset',
      'datasets/solve-example.jsonl',
      '--models',
      'good',
      '--run-id',
      'cached-run',
      '--wait',
      '--json',
    );
    expect(b.code, b.err).toBe(0);
    const s2 = (JSON.parse(b.out) as Summary).models.find((m) => m.model === 'good')!;
    expect(s2.cached).toBe(calls);
    expect(fleet.provider.log().length - before).toBe(27 - calls);
    expect(s2.verdicts.passed).toBe(27);

    // A third run is answered entirely from the cache; --no-cache calls the provider again.
    const c = await cli(
      env,
      'submit',
      'solve',
      '--dataset',
      'datasets/solve-example.jsonl',
      '--models',
      'good',
      '--run-id',
      'cached-run-2',
      '--wait',
      '--json',
    );
    const s3 = (JSON.parse(c.out) as Summary).models.find((m) => m.model === 'good')!;
    expect(s3.cached).toBe(27);
    expect(s3.costUsd).toBe(0);
    const mid = fleet.provider.log().length;
    expect(mid - before).toBe(27 - calls);
    const d = await cli(
      env,
      'submit',
      'solve',
      '--dataset',
      'datasets/solve-example.jsonl',
      '--models',
      'good',
      '--run-id',
      'nocache-run',
      '--no-cache',
      '--wait',
      '--json',
    );
    expect((JSON.parse(d.out) as Summary).models[0]!.cached).toBe(0);
    expect(fleet.provider.log().length - mid).toBe(27);
  });
});
