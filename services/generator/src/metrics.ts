import { Counter, Histogram } from 'prom-client';
import type { FleetMetrics } from '@evalfleet/shared/metrics';
import type { LlmTrace } from '@evalfleet/shared/llm';

export type GeneratorMetrics = ReturnType<typeof createGeneratorMetrics>;

/** LLM call metrics, labelled by registry model name and outcome (small fixed sets). */
export function createGeneratorMetrics(base: FleetMetrics) {
  const registers = [base.registry];
  const requests = new Counter({
    name: 'evalfleet_llm_requests_total',
    help: 'LLM calls by model and outcome (ok or the error code).',
    labelNames: ['model', 'outcome'] as const,
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
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120],
    registers,
  });
  const extractions = new Counter({
    name: 'evalfleet_extractions_total',
    help: 'Code extraction outcomes by model (ok, no_code, syntax_error, missing_entry_point).',
    labelNames: ['model', 'outcome'] as const,
    registers,
  });
  const cache = new Counter({
    name: 'evalfleet_llm_cache_total',
    help: 'Response cache lookups by model and result (hit, miss).',
    labelNames: ['model', 'result'] as const,
    registers,
  });
  return {
    cache,
    requests,
    tokens,
    cost,
    latency,
    extractions,
    observeCall(model: string, outcome: string, trace: LlmTrace | undefined): void {
      requests.inc({ model, outcome });
      if (!trace) return;
      latency.observe({ model, outcome }, trace.latencyMs / 1000);
      if (trace.usage) {
        tokens.inc({ model, direction: 'prompt' }, trace.usage.promptTokens);
        tokens.inc({ model, direction: 'completion' }, trace.usage.completionTokens);
      }
      if (trace.costUsd > 0) cost.inc({ model }, trace.costUsd);
    },
  };
}
