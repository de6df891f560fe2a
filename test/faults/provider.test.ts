// Provider and generator faults on a models run (the fake provider): 429 storms, 500s, timeouts, slow
// answers, the generator SIGKILLed or drained mid-call, and the budget running out mid-run. A fault of
// the transport is a model of its own (`right-429` = always-right behind a flaky transport), so its jobs
// are compared with the fault-free model's jobs of the same task and sample.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadResults } from '../../shared/src/runs/index.js';
import { waitFor } from '../support/rabbit.js';
import { FaultFleet, type ServiceProcess } from './support/fleet.js';
import type { LedgerOptions } from './support/ledger.js';

const problems = ['--limit', '4'];
// Transport faults, each over an always-right and an always-wrong model (both verdicts covered).
const faults = {
  s429: 'flaky-429:0.4',
  s500: 'flaky-500:0.4',
  timeout: 'flaky-timeout:0.3',
  slow: 'slow:1000',
  kill: 'slow:1500',
} as const;
const models: Record<string, string> = { right: 'fake/always-right', wrong: 'fake/always-wrong' };
for (const [name, spec] of Object.entries(faults)) {
  models[`right-${name}`] = `fake/always-right+${spec}`;
  models[`wrong-${name}`] = `fake/always-wrong+${spec}`;
}

let fleet: FaultFleet | undefined;

beforeAll(async () => {
  fleet = await FaultFleet.start({
    label: 'provider',
    provider: { models },
    env: {
      // Short retry delays (every service of the namespace agrees) and a short call timeout.
      BROKER_DELAY_TIERS_MS: '200,500,1000',
      LLM_TIMEOUT_MS: '3000',
      RATE_LIMIT_PERIOD_MS: '2000',
    },
  });
  await fleet.ensure('producer', 'generator', 'evaluator', 'aggregator');
  await fleet.submitModels('baseline', ['right', 'wrong'], problems);
  await fleet.waitCompleted('baseline');
}, 240_000);

afterAll(async () => {
  await fleet?.stop();
}, 120_000);

beforeEach(async () => {
  await fleet!.ensure('producer', 'generator', 'evaluator', 'aggregator');
}, 120_000);

/** `right-429/task/0` → `right/task/0`: the same job under the fault-free model. */
const toBase = (jobId: string) => jobId.replace(/^(right|wrong)-[a-z0-9]+\//, '$1/');

async function expectWhole(runId: string, extra: Partial<LedgerOptions> = {}) {
  const report = await fleet!.ledger(runId, 'baseline', { mapJob: toBase, ...extra });
  expect(report.ok, `${report.diff}\n${report.ok ? '' : await fleet!.logTail()}`).toBe(true);
  return report;
}

/** A run over the fault's two models; `evidence` checks the provider really misbehaved for them. */
async function runWith(fault: keyof typeof faults, runId: string, evidence: (statuses: (number | null)[]) => boolean) {
  const f = fleet!;
  await f.submitModels(runId, [`right-${fault}`, `wrong-${fault}`], problems);
  await f.waitCompleted(runId, 180_000);
  await expectWhole(runId);
  const ids = new Set([models[`right-${fault}`], models[`wrong-${fault}`]]);
  const statuses = f
    .provider!.log()
    .filter((a) => ids.has(a.model ?? ''))
    .map((a) => a.status);
  expect(evidence(statuses), `provider answered ${JSON.stringify(statuses)}`).toBe(true);
}

/** Wait until a generator has a call in flight (its in-flight gauge), so a signal lands mid-call. */
async function midCall(proc: ServiceProcess) {
  await waitFor(
    'a provider call in flight',
    async () => {
      const text = await fetch(`${proc.opsUrl}/metrics`).then((r) => r.text());
      return /evalfleet_in_flight_messages\{[^}]*stage="generate"[^}]*\} [1-9]/.test(text);
    },
    60_000,
    20,
  );
}

describe('provider faults', () => {
  it('the fault-free models run is whole (the reference)', async () => {
    const report = await fleet!.ledger('baseline', 'baseline');
    expect(report.ok, report.diff).toBe(true);
    expect(report.jobs).toBe(8);
  });

  it('a 429 storm (40 % of calls, retry-after)', { timeout: 200_000 }, () =>
    runWith('s429', 'storm-429', (s) => s.includes(429)),
  );
  it('provider 500s (40 % of calls)', { timeout: 200_000 }, () =>
    runWith('s500', 'errors-500', (s) => s.includes(500)),
  );
  it('provider timeouts (30 % of calls never answered)', { timeout: 200_000 }, () =>
    runWith('timeout', 'timeouts', (s) => s.includes(null)),
  );
  it('slow answers (1 s each)', { timeout: 200_000 }, () => runWith('slow', 'slow', (s) => s.length >= 8));

  it('the generator SIGKILLed mid-call, a replacement finishes', { timeout: 200_000 }, async () => {
    const f = fleet!;
    const [generator] = f.running('generator');
    await f.submitModels('gen-kill', ['right-kill', 'wrong-kill'], problems);
    await midCall(generator!);
    const [, signal] = await f.signal(generator!, 'SIGKILL');
    expect(signal).toBe('SIGKILL');
    await f.startService('generator');
    await f.waitCompleted('gen-kill', 180_000);
    await expectWhole('gen-kill');
  });

  it('the generator drained by SIGTERM mid-call (exit 143), a replacement finishes', { timeout: 200_000 }, async () => {
    const f = fleet!;
    const [generator] = f.running('generator');
    await f.submitModels('gen-term', ['right-kill', 'wrong-kill'], problems);
    await midCall(generator!);
    const [code] = await f.signal(generator!, 'SIGTERM');
    expect(code).toBe(143);
    await f.startService('generator');
    await f.waitCompleted('gen-term', 180_000);
    await expectWhole('gen-term');
  });

  it(
    'the budget exhausted mid-run: the rest end budget_exhausted, nothing overspent',
    { timeout: 200_000 },
    async () => {
      const f = fleet!;
      const budgetUsd = 0.004;
      await f.submitModels('budget', ['right', 'wrong'], [...problems, '--budget-usd', String(budgetUsd)]);
      await f.waitCompleted('budget', 180_000);
      await expectWhole('budget', {
        // Which jobs the budget reaches depends on who asks first; the others must end budget_exhausted.
        explainDifference: (_job, got) => (got.verdict === 'budget_exhausted' ? 'the budget ran out' : undefined),
      });
      const results = await loadResults('budget', f.store);
      const exhausted = results.filter((r) => r.outcome === 'budget_exhausted').length;
      expect(exhausted).toBeGreaterThan(0);
      expect(exhausted).toBeLessThan(results.length);
      const spent = results.reduce((sum, r) => sum + Number(r.result.costUsd ?? 0), 0);
      expect(spent).toBeLessThanOrEqual(budgetUsd);
    },
  );
});
