import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The limiter's metrics; label values are scope keys and provider names from the registry, and fixed reasons. */
export interface LimiterMetrics {
  waitSeconds: Histogram<'scope'>;
  admitted: Counter<'scope'>;
  denied: Counter<'scope' | 'reason'>;
  waits: Counter<'scope' | 'reason'>;
  pauses: Counter<'scope' | 'reason'>;
  provider429: Counter<'provider'>;
  tokensReserved: Counter<'scope'>;
  tokensActual: Counter<'scope'>;
  rateFactor: Gauge<'scope'>;
}

const waitBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** Registers the limiter's metrics on `registry`, reusing them when another limiter already did. */
export function createLimiterMetrics(registry: Registry): LimiterMetrics {
  function once<M>(name: string, make: () => M): M {
    return (registry.getSingleMetric(name) as M | undefined) ?? make();
  }
  const registers = [registry];
  return {
    waitSeconds: once(
      'evalfleet_ratelimit_wait_seconds',
      () =>
        new Histogram({
          name: 'evalfleet_ratelimit_wait_seconds',
          help: 'Time a call waited in the fleet rate limiter before it was admitted, by scope.',
          labelNames: ['scope'] as const,
          buckets: waitBuckets,
          registers,
        }),
    ),
    admitted: once(
      'evalfleet_ratelimit_admitted_total',
      () =>
        new Counter({
          name: 'evalfleet_ratelimit_admitted_total',
          help: 'Calls the fleet rate limiter admitted, by scope.',
          labelNames: ['scope'] as const,
          registers,
        }),
    ),
    denied: once(
      'evalfleet_ratelimit_denied_total',
      () =>
        new Counter({
          name: 'evalfleet_ratelimit_denied_total',
          help: 'Calls the limiter gave up on, by scope and reason (request_too_large, max_wait, redis_unavailable, aborted).',
          labelNames: ['scope', 'reason'] as const,
          registers,
        }),
    ),
    waits: once(
      'evalfleet_ratelimit_waits_total',
      () =>
        new Counter({
          name: 'evalfleet_ratelimit_waits_total',
          help: 'Times a call was told to wait, by scope and reason (capacity, retry_after, exhausted, rate_limited, warmup, reduced, redis).',
          labelNames: ['scope', 'reason'] as const,
          registers,
        }),
    ),
    pauses: once(
      'evalfleet_ratelimit_pauses_total',
      () =>
        new Counter({
          name: 'evalfleet_ratelimit_pauses_total',
          help: 'Fleet-wide pauses set from provider answers, by scope and reason (retry_after, exhausted, rate_limited).',
          labelNames: ['scope', 'reason'] as const,
          registers,
        }),
    ),
    provider429: once(
      'evalfleet_ratelimit_provider_429_total',
      () =>
        new Counter({
          name: 'evalfleet_ratelimit_provider_429_total',
          help: '429 answers observed from providers, by provider.',
          labelNames: ['provider'] as const,
          registers,
        }),
    ),
    tokensReserved: once(
      'evalfleet_ratelimit_tokens_reserved_total',
      () =>
        new Counter({
          name: 'evalfleet_ratelimit_tokens_reserved_total',
          help: 'Tokens reserved before calls (prompt estimate + max output tokens), by scope.',
          labelNames: ['scope'] as const,
          registers,
        }),
    ),
    tokensActual: once(
      'evalfleet_ratelimit_tokens_actual_total',
      () =>
        new Counter({
          name: 'evalfleet_ratelimit_tokens_actual_total',
          help: 'Tokens calls really used, as reconciled after them (0 for cancelled calls), by scope.',
          labelNames: ['scope'] as const,
          registers,
        }),
    ),
    rateFactor: once(
      'evalfleet_ratelimit_rate_factor',
      () =>
        new Gauge({
          name: 'evalfleet_ratelimit_rate_factor',
          help: 'Fraction of the configured limits in force after 429s (1 = full rate), by scope.',
          labelNames: ['scope'] as const,
          registers,
        }),
    ),
  };
}
