import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per process with the metrics every service shares. Label values come from
 * small fixed sets (stage, kind, outcome, model) — never job ids, prompts or model output.
 */
export type FleetMetrics = ReturnType<typeof createMetrics>;

const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export function createMetrics(opts: { service: string; defaultMetrics?: boolean }) {
  const registry = new Registry();
  registry.setDefaultLabels({ service: opts.service });
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  return {
    registry,
    jobs: new Counter({
      name: 'evalfleet_jobs_total',
      help: 'Messages handled, by stage, kind, message type and outcome (ack, retry, dead_letter, ...).',
      labelNames: ['stage', 'kind', 'type', 'outcome'] as const,
      registers: [registry],
    }),
    stageDuration: new Histogram({
      name: 'evalfleet_stage_duration_seconds',
      help: 'Time a handler spent on one message, by stage, kind and outcome.',
      labelNames: ['stage', 'kind', 'outcome'] as const,
      buckets: durationBuckets,
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'evalfleet_in_flight_messages',
      help: 'Messages a consumer is currently handling, by stage.',
      labelNames: ['stage'] as const,
      registers: [registry],
    }),
    published: new Counter({
      name: 'evalfleet_published_total',
      help: 'Messages published with a broker confirm, by exchange role (work, retry, dead_letter) and outcome.',
      labelNames: ['role', 'outcome'] as const,
      registers: [registry],
    }),
    brokerReconnects: new Counter({
      name: 'evalfleet_broker_reconnects_total',
      help: 'Times the broker connection was lost and re-established.',
      registers: [registry],
    }),
    brokerConnected: new Gauge({
      name: 'evalfleet_broker_connected',
      help: '1 while the broker connection is up, 0 otherwise.',
      registers: [registry],
    }),
    brokerBlocked: new Gauge({
      name: 'evalfleet_broker_blocked',
      help: '1 while the broker has blocked publishing (resource alarm), 0 otherwise.',
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'evalfleet_queue_depth',
      help: 'Messages ready in a queue, by stage and role (work, dead_letter), sampled periodically.',
      labelNames: ['stage', 'role'] as const,
      registers: [registry],
    }),
  };
}
