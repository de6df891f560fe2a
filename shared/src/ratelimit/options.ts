import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';

/** How the limiter reacts to 429s and rate-limit headers. */
export interface AdaptiveOptions {
  /** A 429 multiplies the scope's rate by this (default 0.8)... */
  decrease: number;
  /** ...but never below this fraction of the configured limits (default 0.25). */
  floor: number;
  /** The rate then climbs back by this fraction of the limits per period (default 0.1). */
  recoverPerPeriod: number;
  /** At most one decrease per this many ms, however many instances see the burst of 429s (default max(1 s, period / 20)). */
  cooldownMs: number;
  /** Pause after a 429 without `retry-after` or usable reset headers (default 1000). */
  default429PauseMs: number;
  /** Longest pause any header can set (default 10 periods). */
  maxPauseMs: number;
}

export interface FleetLimiterOptions {
  /** A client from `createRedis`; its key prefix keeps fleets (and tests) apart. The caller closes it. */
  redis: Redis;
  /** The limits' period: rpm / tpm are per this many ms. Default 60 000. */
  periodMs?: number;
  /**
   * A reservation occupies capacity for period + margin, which absorbs the jitter between our admission
   * and the request's arrival at the provider (a process's first call, or a burst on a busy machine, can
   * take 100 ms and more to get there). Default 1 % of the period, at least 250 ms.
   */
  marginMs?: number;
  /** How often an instance holding reservations checks in (and notices lost state). Default 1000. */
  heartbeatMs?: number;
  /**
   * Pause of a scope whose state was lost (Redis restarted empty), long enough for every live instance
   * to reconnect and replay its reservations. Default 6000 + heartbeatMs (ioredis reconnects at least
   * every ~5.5 s with `createRedis`). 0 turns it off.
   */
  warmupMs?: number;
  /** `acquire` waits at most this long unless told otherwise. Default 30 000. */
  defaultMaxWaitMs?: number;
  /** Largest random delay added to a capacity wait, against thundering herds. Default 25. */
  jitterMs?: number;
  /** How long past its computed wait a waiting request keeps its hold on capacity. Default 100. */
  holdSlackMs?: number;
  adaptive?: Partial<AdaptiveOptions>;
  /** prom-client registry to register the limiter's metrics on. */
  metrics?: Registry;
  logger?: { warn(obj: object, msg: string): void };
  /** Names this process in the live-instance set. Default a random id. */
  instanceId?: string;
  random?: () => number;
}

export interface ResolvedOptions {
  periodMs: number;
  marginMs: number;
  windowMs: number;
  heartbeatMs: number;
  warmupMs: number;
  defaultMaxWaitMs: number;
  jitterMs: number;
  holdSlackMs: number;
  adaptive: AdaptiveOptions;
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`ratelimit ${name} must be a positive number, got ${value}`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`ratelimit ${name} must be >= 0, got ${value}`);
  return value;
}

export function resolveOptions(options: FleetLimiterOptions): ResolvedOptions {
  const periodMs = positive('periodMs', options.periodMs ?? 60_000);
  const marginMs = nonNegative('marginMs', options.marginMs ?? Math.max(250, Math.round(periodMs * 0.01)));
  const heartbeatMs = positive('heartbeatMs', options.heartbeatMs ?? 1000);
  const a = options.adaptive ?? {};
  const adaptive: AdaptiveOptions = {
    decrease: a.decrease ?? 0.8,
    floor: a.floor ?? 0.25,
    recoverPerPeriod: positive('adaptive.recoverPerPeriod', a.recoverPerPeriod ?? 0.1),
    cooldownMs: nonNegative('adaptive.cooldownMs', a.cooldownMs ?? Math.max(1000, periodMs / 20)),
    default429PauseMs: nonNegative('adaptive.default429PauseMs', a.default429PauseMs ?? 1000),
    maxPauseMs: positive('adaptive.maxPauseMs', a.maxPauseMs ?? periodMs * 10),
  };
  if (!(adaptive.decrease > 0 && adaptive.decrease <= 1))
    throw new RangeError('ratelimit adaptive.decrease must be in (0, 1]');
  if (!(adaptive.floor > 0 && adaptive.floor <= 1)) throw new RangeError('ratelimit adaptive.floor must be in (0, 1]');
  return {
    periodMs,
    marginMs,
    windowMs: periodMs + marginMs,
    heartbeatMs,
    warmupMs: nonNegative('warmupMs', options.warmupMs ?? 6000 + heartbeatMs),
    defaultMaxWaitMs: nonNegative('defaultMaxWaitMs', options.defaultMaxWaitMs ?? 30_000),
    jitterMs: nonNegative('jitterMs', options.jitterMs ?? 25),
    holdSlackMs: nonNegative('holdSlackMs', options.holdSlackMs ?? 100),
    adaptive,
  };
}
