import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCodes, EvalfleetError, PermanentError, RetryableError } from '../errors/index.js';
import { createLimiterMetrics, type LimiterMetrics } from '../metrics/ratelimit.js';
import { resolveOptions, type FleetLimiterOptions, type ResolvedOptions } from './options.js';
import { isUnlimited, type RateLimitScope } from './scope.js';
import { ScopeState, youngMs } from './scope-state.js';
import { runScript } from './script-runner.js';
import { readLimitSignals } from './signals.js';

export const RateLimitErrorCodes = {
  /** The wait for capacity would exceed `maxWaitMs`: hand the message back through a delay queue. */
  rateLimitedWait: 'rate_limited_wait',
  /** The request needs more tokens than the scope's whole per-period limit: it can never be admitted. */
  requestTooLarge: 'request_too_large',
  /** The caller's signal aborted the wait. */
  aborted: 'request_aborted',
} as const;

export interface AcquireOptions {
  /** Tokens to reserve: the prompt estimate plus the maximum output tokens. */
  tokens: number;
  /** Longest wait before giving up with RetryableError('rate_limited_wait'); default the limiter's. */
  maxWaitMs?: number;
  signal?: AbortSignal;
}

/** Capacity taken for one call. Settle it once: `reconcile` after the call, or `cancel` if it never left. */
export interface Reservation {
  readonly id: string;
  readonly scope: string;
  readonly tokens: number;
  readonly waitedMs: number;
  /**
   * Sets the reservation to the tokens the provider counted (refunds or charges the difference
   * atomically). Use it after any call that reached the provider, failed or not; the request stays
   * charged. Never throws: if Redis is down the correction is kept for replay.
   */
  reconcile(actualTokens: number): Promise<void>;
  /** Gives back the request and its tokens: only for a call that never reached the provider. */
  cancel(): Promise<void>;
}

export interface ObservedResponse {
  /** HTTP status, or null when no answer arrived (then only headers, if any, count). */
  status: number | null;
  /** Response headers in lower case: retry-after, retry-after-ms, x-ratelimit-*. */
  headers: Readonly<Record<string, string>>;
  /** Duration of the call, which makes reset-based pauses exact instead of a call longer. */
  latencyMs?: number;
}

export interface ScopeStatus {
  /** Requests and tokens reserved in the current window. */
  requests: number;
  tokens: number;
  /** Limits in force now (configured, capped by provider headers, times the adaptive factor). */
  effectiveRpm: number | undefined;
  effectiveTpm: number | undefined;
  factor: number;
  pausedForMs: number;
  pauseReason: string | undefined;
  /** Instances with live reservations that checked in within three heartbeats. */
  liveInstances: number;
}

export interface FleetLimiter {
  /** Waits for capacity for one call in `scope`; see AcquireOptions and Reservation. */
  acquire(scope: RateLimitScope, options: AcquireOptions): Promise<Reservation>;
  /** Feeds a provider answer back: 429s, retry-after and exhausted quotas pause the scope fleet-wide. Never throws. */
  observe(scope: RateLimitScope, response: ObservedResponse): Promise<void>;
  status(scope: RateLimitScope): Promise<ScopeStatus>;
  /** Stops heartbeats and leaves the live sets. Does not close the Redis client. */
  close(): Promise<void>;
}

function isRedisDown(err: unknown): boolean {
  return err instanceof RetryableError && err.code === ErrorCodes.redisUnavailable;
}

/** Creates the fleet-wide limiter; see ARCHITECTURE.md "Fleet-wide rate limits" and this folder's README. */
export function createFleetLimiter(options: FleetLimiterOptions): FleetLimiter {
  const opts: ResolvedOptions = resolveOptions(options);
  const { redis } = options;
  const random = options.random ?? Math.random;
  const instanceId = options.instanceId ?? randomUUID();
  const metrics: LimiterMetrics | undefined = options.metrics ? createLimiterMetrics(options.metrics) : undefined;
  const scopes = new Map<string, ScopeState>();
  let heartbeat: NodeJS.Timeout | undefined;
  let beating = false;
  let closed = false;

  function stateOf(scope: RateLimitScope): ScopeState {
    let state = scopes.get(scope.key);
    if (state === undefined) {
      state = new ScopeState(scope.key, redis, opts);
      scopes.set(scope.key, state);
    }
    return state;
  }

  function warn(obj: object, msg: string): void {
    options.logger?.warn(obj, msg);
  }

  async function beat(): Promise<void> {
    if (beating) return;
    beating = true;
    try {
      for (const state of scopes.values()) {
        if (state.liveCount() === 0) continue;
        await state.touch(instanceId).catch((err: unknown) => {
          if (!isRedisDown(err)) warn({ err, scope: state.key }, 'rate limiter heartbeat failed');
        });
      }
    } finally {
      beating = false;
    }
  }

  function startHeartbeat(): void {
    if (heartbeat !== undefined || closed) return;
    heartbeat = setInterval(() => void beat(), opts.heartbeatMs);
    heartbeat.unref();
  }

  function jitter(reason: string, holder: boolean, waitMs: number): number {
    if (holder) return 0;
    // Capacity frees a slot at a time: a little spread is enough, and more would leave it idle.
    if (reason === 'capacity') return random() * Math.min(opts.jitterMs, waitMs * 0.1);
    // After a pause everyone wakes together; spread the restart wider.
    return random() * Math.min(1000, waitMs * 0.2);
  }

  async function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await delay(ms, undefined, signal === undefined ? undefined : { signal });
    } catch (err) {
      if (signal?.aborted === true) throw abortError(err);
      throw err;
    }
  }

  function abortError(cause: unknown): RetryableError {
    return new RetryableError(RateLimitErrorCodes.aborted, 'rate limiter wait aborted', { cause });
  }

  function reservation(
    scope: RateLimitScope,
    state: ScopeState,
    id: string,
    tokens: number,
    waitedMs: number,
    tracked: boolean,
  ): Reservation {
    let settled = false;
    return {
      id,
      scope: scope.key,
      tokens,
      waitedMs,
      async reconcile(actualTokens: number): Promise<void> {
        if (settled) return;
        settled = true;
        const actual = Math.max(0, Math.ceil(Number.isFinite(actualTokens) ? actualTokens : tokens));
        metrics?.tokensActual.inc({ scope: scope.key }, actual);
        if (!tracked || actual === tokens) return;
        state.update(id, actual);
        await runScript(redis, 'reconcile', state.keys, [id, actual]).catch((err: unknown) => {
          warn({ err, scope: scope.key }, 'rate limiter could not reconcile a reservation');
        });
      },
      async cancel(): Promise<void> {
        if (settled) return;
        settled = true;
        if (!tracked) return;
        state.forget(id);
        await runScript(redis, 'cancel', state.keys, [id]).catch((err: unknown) => {
          warn({ err, scope: scope.key }, 'rate limiter could not cancel a reservation');
        });
      },
    };
  }

  async function acquire(scope: RateLimitScope, acquireOptions: AcquireOptions): Promise<Reservation> {
    const tokens = Math.ceil(acquireOptions.tokens);
    if (!Number.isFinite(tokens) || tokens < 0)
      throw new RangeError(`tokens must be >= 0, got ${acquireOptions.tokens}`);
    const maxWaitMs = acquireOptions.maxWaitMs ?? opts.defaultMaxWaitMs;
    const { signal } = acquireOptions;
    const state = stateOf(scope);
    const id = randomUUID();
    const labels = { scope: scope.key };
    const started = performance.now();
    let redisBackoffMs = 100;
    let holder = false;

    const deny = (reason: string): void => {
      metrics?.denied.inc({ scope: scope.key, reason });
    };
    // A waiter that gives up must not keep capacity held for it.
    const releaseHold = async (): Promise<void> => {
      if (holder) await runScript(redis, 'cancel', state.keys, [id]).catch(() => undefined);
    };

    for (;;) {
      if (signal?.aborted === true) {
        await releaseHold();
        deny('aborted');
        throw abortError(signal.reason);
      }
      const waitedMs = performance.now() - started;
      const budgetMs = Math.max(0, maxWaitMs - waitedMs);
      let reply: string[];
      try {
        reply = await runScript(redis, 'acquire', state.keys, [
          id,
          tokens,
          scope.rpm ?? 0,
          scope.tpm ?? 0,
          opts.windowMs,
          opts.periodMs,
          state.knownEpoch(),
          randomUUID(),
          opts.warmupMs,
          youngMs(opts),
          opts.adaptive.recoverPerPeriod,
          Math.floor(budgetMs),
          opts.holdSlackMs,
          Math.floor(waitedMs),
        ]);
      } catch (err) {
        if (!isRedisDown(err)) throw err;
        // Nothing to protect in a scope without limits; everything else fails closed.
        if (isUnlimited(scope)) return reservation(scope, state, id, tokens, waitedMs, false);
        metrics?.waits.inc({ ...labels, reason: 'redis' });
        const backoff = redisBackoffMs * (1 + random());
        if (backoff > budgetMs) {
          deny('redis_unavailable');
          throw new RetryableError(ErrorCodes.redisUnavailable, `rate limiter cannot reach Redis for ${scope.key}`, {
            cause: err,
            details: { scope: scope.key },
            retryAfterMs: Math.max(1000, Math.round(backoff)),
          });
        }
        await sleep(backoff, signal);
        redisBackoffMs = Math.min(2000, redisBackoffMs * 2);
        continue;
      }
      redisBackoffMs = 100;

      const [kind, msText = '0', epoch = '', detail = '', flag = '0'] = reply;
      if (kind === 'admitted') {
        const tracked = flag === '1';
        if (tracked) {
          state.remember(id, detail, tokens, epoch);
          startHeartbeat();
        } else if (state.knownEpoch() === '') state.epoch = epoch;
        metrics?.admitted.inc(labels);
        metrics?.tokensReserved.inc(labels, tokens);
        metrics?.waitSeconds.observe(labels, waitedMs / 1000);
        return reservation(scope, state, id, tokens, waitedMs, tracked);
      }
      if (kind === 'too_large') {
        deny(RateLimitErrorCodes.requestTooLarge);
        throw new PermanentError(
          RateLimitErrorCodes.requestTooLarge,
          `request of ${tokens} tokens exceeds ${scope.key}'s limit of ${detail} tokens per period`,
          { details: { scope: scope.key, tokens, tpm: Number(detail) } },
        );
      }
      if (kind === 'replay') {
        try {
          await state.replay(epoch);
        } catch (err) {
          if (!isRedisDown(err)) throw err;
        }
        continue;
      }
      if (kind !== 'wait') throw new Error(`ratelimit.acquire: unexpected reply ${JSON.stringify(reply)}`);

      const waitMs = Number(msText);
      holder = flag === '1';
      if (waitMs > budgetMs) {
        await releaseHold();
        deny('max_wait');
        throw new RetryableError(
          RateLimitErrorCodes.rateLimitedWait,
          `${scope.key}: capacity in ${waitMs} ms (${detail}), more than the ${maxWaitMs} ms this call may wait`,
          { details: { scope: scope.key, reason: detail, tokens }, retryAfterMs: waitMs },
        );
      }
      metrics?.waits.inc({ ...labels, reason: detail });
      try {
        await sleep(Math.min(budgetMs, waitMs + jitter(detail, holder, waitMs)), signal);
      } catch (err) {
        if (err instanceof EvalfleetError) {
          await releaseHold();
          deny('aborted');
        }
        throw err;
      }
    }
  }

  async function observe(scope: RateLimitScope, response: ObservedResponse): Promise<void> {
    const signals = readLimitSignals(response.status, response.headers, {
      default429PauseMs: opts.adaptive.default429PauseMs,
      maxPauseMs: opts.adaptive.maxPauseMs,
      ...(response.latencyMs === undefined ? {} : { latencyMs: response.latencyMs }),
    });
    if (signals.rateLimited) metrics?.provider429.inc({ provider: scope.provider });
    const state = stateOf(scope);
    // A provider limit below ours caps the scope; one at or above it lifts an earlier cap.
    const cap = (reported: number | undefined, configured: number | undefined): string => {
      if (reported === undefined || reported <= 0) return '';
      return configured !== undefined && reported >= configured ? '0' : String(Math.floor(reported));
    };
    let capRpm = cap(signals.limitRequests, scope.rpm);
    let capTpm = cap(signals.limitTokens, scope.tpm);
    if (capRpm === state.capRpm || (capRpm === '0' && state.capRpm === '')) capRpm = '';
    if (capTpm === state.capTpm || (capTpm === '0' && state.capTpm === '')) capTpm = '';
    if (!signals.rateLimited && signals.pauseMs <= 0 && capRpm === '' && capTpm === '') return;

    const a = opts.adaptive;
    try {
      const [factor = '1'] = await runScript(redis, 'observe', state.keys, [
        Math.ceil(signals.pauseMs),
        signals.pauseReason ?? '',
        signals.rateLimited ? '1' : '0',
        a.decrease,
        a.floor,
        a.recoverPerPeriod,
        opts.periodMs,
        a.cooldownMs,
        capRpm,
        capTpm,
      ]);
      if (capRpm !== '') state.capRpm = capRpm === '0' ? '' : capRpm;
      if (capTpm !== '') state.capTpm = capTpm === '0' ? '' : capTpm;
      metrics?.rateFactor.set({ scope: scope.key }, Number(factor));
    } catch (err) {
      warn({ err, scope: scope.key }, 'rate limiter could not record a provider answer');
    }
    if (signals.pauseReason !== undefined) metrics?.pauses.inc({ scope: scope.key, reason: signals.pauseReason });
  }

  async function status(scope: RateLimitScope): Promise<ScopeStatus> {
    const state = stateOf(scope);
    const r = await runScript(redis, 'status', state.keys, [
      opts.windowMs,
      opts.adaptive.recoverPerPeriod,
      opts.periodMs,
      opts.heartbeatMs * 3,
    ]);
    const [
      ,
      requests = '0',
      tokens = '0',
      factorText = '1',
      paused = '0',
      reason = '',
      live = '0',
      capR = '',
      capT = '',
    ] = r;
    const factor = Number(factorText);
    const effective = (configured: number | undefined, capText: string): number | undefined => {
      const capped = capText === '' ? configured : Math.min(configured ?? Infinity, Number(capText));
      return capped === undefined ? undefined : Math.max(1, Math.floor(capped * factor));
    };
    return {
      requests: Number(requests),
      tokens: Number(tokens),
      effectiveRpm: effective(scope.rpm, capR),
      effectiveTpm: effective(scope.tpm, capT),
      factor,
      pausedForMs: Number(paused),
      pauseReason: Number(paused) > 0 && reason !== '' ? reason : undefined,
      liveInstances: Number(live),
    };
  }

  async function close(): Promise<void> {
    closed = true;
    if (heartbeat !== undefined) clearInterval(heartbeat);
    heartbeat = undefined;
    // Leaving is a courtesy (entries age out in three heartbeats); do not wait on a Redis that is down.
    if (redis.status !== 'ready') return;
    await Promise.allSettled([...scopes.values()].map((state) => runScript(redis, 'leave', state.keys, [instanceId])));
  }

  return { acquire, observe, status, close };
}
