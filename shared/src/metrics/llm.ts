import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { LlmTrace } from '../llm/types.js';

/**
 * Model call metrics. Label values come from small fixed sets: registry model and provider
 * names, `ok` or an error code, hit/miss, prompt/completion. The names are the ones the
 * generator defined before this capability moved here, so dashboards keep working.
 */
export interface LlmMetrics {
  requests: Counter<'provider' | 'model' | 'outcome'>;
  tokens: Counter<'model' | 'direction'>;
  cost: Counter<'model'>;
  latency: Histogram<'model' | 'outcome'>;
  cache: Counter<'model' | 'result'>;
  /** Spend and budget of runs in progress (one series per run, removed by `forgetRun`). */
  runCost: Gauge<'run'>;
  runBudget: Gauge<'run'>;
  forgetRun(run: string): void;
  /** Records one attempt that reached (or tried to reach) a provider. */
  observeCall(trace: LlmTrace): void;
}

const latencyBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120];

/**
 * Registers the call metrics on `registry`, once per registry: a second registration (e.g. a
 * service that still defines these names itself) fails at start-up rather than at the first call.
 */
export function createLlmMetrics(registry: Registry): LlmMetrics {
  const registers = [registry];
  const requests = new Counter({
    name: 'evalfleet_llm_requests_total',
    help: 'LLM calls by provider, model and outcome (ok or the error code, e.g. rate_limited for a 429).',
    labelNames: ['provider', 'model', 'outcome'] as const,
    registers,
  });
  const tokens = new Counter({
    name: 'evalfleet_llm_tokens_total',
    help: 'Tokens reported by providers, by model and direction (prompt, completion).',
    labelNames: ['model', 'direction'] as const,
    registers,
  });
  const cost = new Counter({
    name: 'evalfleet_llm_cost_usd_total',
    help: 'Spend in US dollars from the price table, by model.',
    labelNames: ['model'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'evalfleet_llm_latency_seconds',
    help: 'LLM call latency by model and outcome.',
    labelNames: ['model', 'outcome'] as const,
    buckets: latencyBuckets,
    registers,
  });
  const cache = new Counter({
    name: 'evalfleet_llm_cache_total',
    help: 'Response cache lookups by model and result (hit, miss).',
    labelNames: ['model', 'result'] as const,
    registers,
  });
  // Runs in progress only (the generator forgets a run on its run.completed): bounded cardinality.
  const runCost = new Gauge({
    name: 'evalfleet_run_cost_usd',
    help: 'USD a run in progress has spent (the fleet-wide budget ledger in Redis).',
    labelNames: ['run'] as const,
    registers,
  });
  const runBudget = new Gauge({
    name: 'evalfleet_run_budget_usd',
    help: 'Budget of a run in progress in USD (absent for runs without one).',
    labelNames: ['run'] as const,
    registers,
  });
  return {
    runCost,
    runBudget,
    forgetRun(run) {
      runCost.remove({ run });
      runBudget.remove({ run });
    },
    requests,
    tokens,
    cost,
    latency,
    cache,
    observeCall(trace) {
      const { model, provider, outcome } = trace;
      requests.inc({ provider, model, outcome });
      latency.observe({ model, outcome }, trace.latencyMs / 1000);
      if (trace.usage) {
        tokens.inc({ model, direction: 'prompt' }, trace.usage.promptTokens);
        tokens.inc({ model, direction: 'completion' }, trace.usage.completionTokens);
      }
      if (trace.costUsd > 0) cost.inc({ model }, trace.costUsd);
    },
  };
}
