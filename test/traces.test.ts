// `evalfleet traces` / `evalfleet trace` on a solve run whose calls are known exactly: the fake
// provider logs every request it got, so each filter's answer is checked against that log.
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from './support/cli.js';
import { startSolveFleet, type SolveFleet } from './support/solve-fleet.js';

let fleet: SolveFleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

type Call = {
  jobId: string;
  attempt: number;
  model: string;
  taskId?: string;
  outcome: string;
  retryReason?: string;
  error?: string;
  promptTokens: number;
  completionTokens: number;
};

const ids: Record<string, string> = {
  good: 'fake/always-right',
  mixed: 'fake/right-fraction:0.6',
  malformed: 'fake/malformed',
  // Fails with 500 on a fixed share of requests (drawn per request and retry): retries with a reason.
  flaky: 'fake/always-right+flaky-500:0.4',
};
const tasks = [
  'algorithms/covered_length',
  'collections/group_by_key',
  'math/digital_root',
  'parsing/parse_duration',
  'strings/slugify',
];

describe('traces', () => {
  it('lists exactly the calls the provider saw, by model, outcome and task', { timeout: 300_000 }, async () => {
    fleet = await startSolveFleet('traces', { models: { flaky: ids['flaky']! } });
    const runId = 'traces-e2e';
    const submitted = await cli(
      fleet.env,
      'submit',
      'solve',
      '--dataset',
      'datasets/solve-example.jsonl',
      '--quick-test',
      '--models',
      Object.keys(ids).join(','),
      '--run-id',
      runId,
      '--wait',
      '--json',
    );
    expect(submitted.code, submitted.err).toBe(0);
    const arrivals = fleet.provider.log();
    const traces = async (...filters: string[]) => {
      const r = await cli(fleet!.env, 'traces', runId, ...filters, '--json');
      expect(r.code, r.err).toBe(0);
      return JSON.parse(r.out) as Call[];
    };

    // One trace per provider request: every call of the run, nothing else.
    const all = await traces();
    expect(all).toHaveLength(arrivals.length);
    for (const [name, id] of Object.entries(ids)) {
      expect((await traces('--model', name)).length, name).toBe(arrivals.filter((a) => a.model === id).length);
    }
    const good = await traces('--model', 'good');
    expect(good.map((c) => [c.jobId, c.attempt, c.outcome, c.taskId])).toEqual(
      tasks.map((t) => [`good/${t}/0`, 1, 'ok', t]),
    );
    expect(good.every((c) => c.promptTokens > 0 && c.completionTokens > 0 && c.retryReason === undefined)).toBe(true);

    // A malformed answer is one failed call per job, never retried.
    const malformed = await traces('--outcome', 'malformed_response');
    expect(malformed.map((c) => [c.model, c.jobId, c.attempt])).toEqual(
      tasks.map((t) => ['malformed', `malformed/${t}/0`, 1]),
    );

    // Each 500 the provider sent is a failed call, and the job's next attempt says why it happened.
    const served500 = arrivals.filter((a) => a.status === 500);
    expect(served500.length).toBeGreaterThan(0);
    const unavailable = await traces('--outcome', 'provider_unavailable');
    expect(unavailable).toHaveLength(served500.length);
    expect(unavailable.every((c) => c.model === 'flaky' && c.error?.startsWith('provider_unavailable'))).toBe(true);
    const retried = all.filter((c) => c.retryReason !== undefined);
    expect(retried).toHaveLength(served500.length);
    expect(retried.every((c) => c.retryReason === 'provider_unavailable' && c.attempt > 1)).toBe(true);
    // Every flaky job ended with an answer on its last attempt.
    const flaky = await traces('--model', 'flaky', '--outcome', 'ok');
    expect(flaky.map((c) => c.jobId).sort()).toEqual(tasks.map((t) => `flaky/${t}/0`));

    // --task reads the task from the job's result: the calls the provider saw for that task.
    for (const task of tasks) {
      const calls = await traces('--task', task);
      expect(calls.length, task).toBe(arrivals.filter((a) => a.taskId === task).length);
      expect(calls.every((c) => c.taskId === task)).toBe(true);
    }
    const both = await traces('--task', 'strings/slugify', '--model', 'mixed');
    expect(both.map((c) => c.jobId)).toEqual(['mixed/strings/slugify/0']);
    expect(await traces('--model', 'nobody')).toEqual([]);

    // The table and its total.
    const text = await cli(fleet.env, 'traces', runId, '--model', 'good');
    expect(text.out.split('\n')[0]).toMatch(
      /^job\s+att\s+model\s+outcome\s+ms\s+tokens in\/out\s+cost \$\s+cached\s+retry reason$/,
    );
    expect(text.out).toContain(`${tasks.length} calls · 0 failed`);

    // One call: its messages and the response; an earlier attempt by number.
    const one = await cli(fleet.env, 'trace', runId, 'good/strings/slugify/0');
    expect(one.code, one.err).toBe(0);
    expect(one.out).toContain('── system ──');
    expect(one.out).toContain('Task: strings/slugify');
    expect(one.out).toMatch(/── response \(stop\) ──\n[\s\S]*```python/);
    const failedCall = unavailable[0]!;
    const earlier = await cli(fleet.env, 'trace', runId, failedCall.jobId, '--attempt', String(failedCall.attempt));
    expect(earlier.out).toContain('error provider_unavailable (retryable)');
    const json = await cli(
      fleet.env,
      'trace',
      runId,
      failedCall.jobId,
      '--attempt',
      String(failedCall.attempt),
      '--json',
    );
    expect(JSON.parse(json.out)).toMatchObject({ model: 'flaky', outcome: 'provider_unavailable', status: 500 });
    const missing = await cli(fleet.env, 'trace', runId, 'good/strings/slugify/7');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no trace of job good/strings/slugify/7');
  });
});
