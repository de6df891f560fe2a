import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The fleet's one metrics module: every metric's name, help, labels and buckets is defined here and
 * each process registers them on its own registry (a metric a service never touches exports nothing
 * or zero). Label values come from small fixed sets (stage, kind, type, outcome, model, provider) —
 * never job ids, prompts or model output.
 */
export type FleetMetrics = ReturnType<typeof createMetrics>;

const durationBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const sandboxBuckets = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export function createMetrics(opts: { service: string; defaultMetrics?: boolean }) {
  const registry = new Registry();
  registry.setDefaultLabels({ service: opts.service });
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  return {
    registry,

    // Broker and consumers (every service).
    jobs: new Counter({
      name: 'evalfleet_jobs_total',
      help: 'Messages handled, by stage, kind, message type and outcome (ack, retry, dead_letter, ...).',
      labelNames: ['stage', 'kind', 'type', 'outcome'] as const,
      registers,
    }),
    stageDuration: new Histogram({
      name: 'evalfleet_stage_duration_seconds',
      help: 'Time a handler spent on one message, by stage, kind and outcome.',
      labelNames: ['stage', 'kind', 'outcome'] as const,
      buckets: durationBuckets,
      registers,
    }),
    inFlight: new Gauge({
      name: 'evalfleet_in_flight_messages',
      help: 'Messages a consumer is currently handling, by stage.',
      labelNames: ['stage'] as const,
      registers,
    }),
    published: new Counter({
      name: 'evalfleet_published_total',
      help: 'Messages published with a broker confirm, by exchange role (work, retry, dead_letter) and outcome.',
      labelNames: ['role', 'outcome'] as const,
      registers,
    }),
    brokerReconnects: new Counter({
      name: 'evalfleet_broker_reconnects_total',
      help: 'Times the broker connection was lost and re-established.',
      registers,
    }),
    brokerConnected: new Gauge({
      name: 'evalfleet_broker_connected',
      help: '1 while the broker connection is up, 0 otherwise.',
      registers,
    }),
    brokerBlocked: new Gauge({
      name: 'evalfleet_broker_blocked',
      help: '1 while the broker has blocked publishing (resource alarm), 0 otherwise.',
      registers,
    }),
    queueDepth: new Gauge({
      name: 'evalfleet_queue_depth',
      help: 'Messages ready in a queue, by stage and role (work, dead_letter), sampled periodically.',
      labelNames: ['stage', 'role'] as const,
      registers,
    }),
    queueOldestAge: new Gauge({
      name: 'evalfleet_queue_oldest_message_age_seconds',
      help: "Age of the oldest message of a stage's queue: for work, how long the message a consumer just took had waited since it was sent (0 once the queue is empty); for dead letters, the head's age, sampled.",
      labelNames: ['stage', 'role'] as const,
      registers,
    }),
    queueConsumers: new Gauge({
      name: 'evalfleet_queue_consumers',
      help: "Consumers subscribed to a stage's work queue, sampled periodically.",
      labelNames: ['stage'] as const,
      registers,
    }),

    // Workers: what each kind's handlers decided (the pipeline's outcomes).
    steps: new Counter({
      name: 'evalfleet_step_outcomes_total',
      help: "Outcomes a kind's handler emitted, by stage, kind, message type and outcome (e.g. generate ok, no_code).",
      labelNames: ['stage', 'kind', 'type', 'outcome'] as const,
      registers,
    }),

    // Producer.
    jobsPublished: new Counter({
      name: 'evalfleet_jobs_published_total',
      help: 'Jobs the producer published, by kind.',
      labelNames: ['kind'] as const,
      registers,
    }),

    // Aggregator.
    results: new Counter({
      name: 'evalfleet_results_total',
      help: 'Terminal job results counted (once per job), by kind and outcome.',
      labelNames: ['kind', 'outcome'] as const,
      registers,
    }),
    runsCompleted: new Counter({
      name: 'evalfleet_runs_completed_total',
      help: 'Runs completed (reports written), by kind and status (completed, failed).',
      labelNames: ['kind', 'status'] as const,
      registers,
    }),
    runJobs: new Gauge({
      name: 'evalfleet_run_jobs',
      help: 'Jobs of a run in progress, expected and done (removed when the run completes).',
      labelNames: ['run', 'kind', 'state'] as const,
      registers,
    }),
    deadLettered: new Counter({
      name: 'evalfleet_dead_lettered_jobs_total',
      help: 'Jobs that ended dead-lettered, recorded as their result, by kind, stage and error code.',
      labelNames: ['kind', 'stage', 'code'] as const,
      registers,
    }),

    // Evaluator.
    sandboxPool: new Gauge({
      name: 'evalfleet_sandbox_pool_containers',
      help: "Sandbox containers in this evaluator's pool, by state (idle, busy, starting).",
      labelNames: ['state'] as const,
      registers,
    }),
    sandboxRecycles: new Counter({
      name: 'evalfleet_sandbox_recycles_total',
      help: 'Sandbox containers replaced, by reason (max_jobs, crashed, infra_error, backstop, stale, requested).',
      labelNames: ['reason'] as const,
      registers,
    }),
    sandboxDuration: new Histogram({
      name: 'evalfleet_sandbox_duration_seconds',
      help: 'Sandbox evaluation time by verdict and sandbox kind.',
      labelNames: ['verdict', 'sandbox'] as const,
      buckets: sandboxBuckets,
      registers,
    }),
  };
}

// The model-calling and rate-limiter metrics live beside these, registered by those capabilities.
export { createLlmMetrics, type LlmMetrics } from './llm.js';
export { createLimiterMetrics, type LimiterMetrics } from './ratelimit.js';
