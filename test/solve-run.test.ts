// The solve workload end to end on real RabbitMQ, Redis, the filesystem store and the
// sandbox: mixed fake models give exactly the expected verdicts, pass@k and report files.
import { afterEach, describe, expect, it } from 'vitest';
import { passAtK } from '../shared/src/scoring/index.js';
import { startSolveFleet, type SolveFleet } from './support/solve-fleet.js';
import { cli } from './support/cli.js';

let fleet: SolveFleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

type Row = { taskId: string; model: string; sampleIndex: number; verdict: string; passed: boolean; category: string };
type ModelSummary = {
  model: string;
  samples: number;
  passAtK: { k: number; value: number }[];
  verdicts: Record<string, number>;
  noCodeRate: number | null;
  syntaxErrorRate: number | null;
  solvedTasks: number;
  costUsd: number;
};

describe('solve run', () => {
  it('scores mixed fake models with exact verdict counts, pass@k and reports', { timeout: 240_000 }, async () => {
    fleet = await startSolveFleet('solve');
    const { env, fleetEnv } = fleet;
    const n = 2;
    const r = await cli(
      env,
      'submit',
      'solve',
      '--dataset',
      'datasets/solve-example.jsonl',
      '--models',
      'good,mixed,prose,broken,malformed',
      '--samples-per-task',
      String(n),
      '--run-id',
      'solve-e2e',
      '--wait',
      '--json',
    );
    expect(r.code, r.err).toBe(0);
    const summary = JSON.parse(r.out) as { models: ModelSummary[]; totalJobs: number };
    const tasks = 27;
    expect(summary.totalJobs).toBe(tasks * n * 5);
    const by = new Map(summary.models.map((m) => [m.model, m]));

    const good = by.get('good')!;
    expect(good.verdicts.passed).toBe(tasks * n);
    expect(good.passAtK.find((p) => p.k === 1)?.value).toBe(1);
    expect(good.solvedTasks).toBe(tasks);

    // right-fraction 0.6: exactly round(0.6 × 27) = 16 tasks right per sample index.
    const mixed = by.get('mixed')!;
    expect(mixed.verdicts.passed).toBe(16 * n);
    expect((mixed.verdicts.passed ?? 0) + (mixed.verdicts.failed ?? 0) + (mixed.verdicts.error ?? 0)).toBe(tasks * n);
    expect(mixed.passAtK.find((p) => p.k === 1)?.value).toBeCloseTo((16 * n) / (tasks * n), 10);

    expect(by.get('prose')!.verdicts.no_code).toBe(tasks * n);
    expect(by.get('prose')!.noCodeRate).toBe(1);
    expect(by.get('broken')!.verdicts.syntax_error).toBe(tasks * n);
    expect(by.get('broken')!.syntaxErrorRate).toBe(1);
    // A malformed provider answer is a recorded outcome, not a crash or a dead letter.
    expect(by.get('malformed')!.verdicts.no_code).toBe(tasks * n);
    expect(good.costUsd).toBeGreaterThan(0);

    // pass@k recomputed from results.jsonl with the unbiased estimator.
    const rows = (await fleetEnv.store.get('runs/solve-e2e/results.jsonl'))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Row);
    expect(rows).toHaveLength(tasks * n * 5);
    const mixedRows = rows.filter((x) => x.model === 'mixed');
    const perTask = new Map<string, number>();
    for (const x of mixedRows) perTask.set(x.taskId, (perTask.get(x.taskId) ?? 0) + (x.passed ? 1 : 0));
    const expected2 = [...perTask.values()].reduce((s, c) => s + passAtK(n, c, 2), 0) / perTask.size;
    expect(mixed.passAtK.find((p) => p.k === 2)?.value).toBeCloseTo(expected2, 10);

    const keys: string[] = [];
    for await (const k of fleetEnv.store.list('runs/solve-e2e/')) keys.push(k);
    for (const name of [
      'results.jsonl',
      'summary.json',
      'comparison.json',
      'completed.json',
      'by-model/good/strings.jsonl',
      'by-model/mixed/parsing.csv',
    ]) {
      expect(keys).toContain(`runs/solve-e2e/${name}`);
    }
    const csv = (await fleetEnv.store.get('runs/solve-e2e/by-model/mixed/parsing.csv')).toString('utf8');
    expect(csv.split('\n')[0]).toContain('verdict');
    const parsing = (await fleetEnv.store.get('runs/solve-e2e/by-model/mixed/parsing.jsonl'))
      .toString('utf8')
      .trim()
      .split('\n');
    expect(parsing).toHaveLength(6 * n);
    expect(parsing.every((l) => (JSON.parse(l) as Row).category === 'parsing')).toBe(true);

    const status = await cli(env, 'status', 'solve-e2e', '--json');
    expect(JSON.parse(status.out)).toMatchObject({ status: 'completed', totalJobs: tasks * n * 5 });
    const report = await cli(env, 'report', 'solve-e2e');
    expect(report.out).toMatch(/good\s+54\s+100\.0%/);

    // Re-submitting the same run id resumes: every job is done, nothing is called again.
    const calls = fleet.provider.log().length;
    const again = await cli(env, 'resume', 'solve-e2e', '--wait', '--json');
    expect(again.code, again.err).toBe(0);
    expect(fleet.provider.log().length).toBe(calls);
  });
});
