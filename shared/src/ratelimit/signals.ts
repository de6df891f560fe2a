import { parseDurationMs, parseRetryAfterMs } from '../llm/headers.js';

/** What a provider's answer says about the scope's quota. */
export interface LimitSignals {
  /** The answer was a 429. */
  rateLimited: boolean;
  /** How long the whole scope should stop sending, 0 for not at all. */
  pauseMs: number;
  pauseReason: 'retry_after' | 'exhausted' | 'rate_limited' | undefined;
  /** Limits the provider reports (`x-ratelimit-limit-*`), when it does. */
  limitRequests: number | undefined;
  limitTokens: number | undefined;
}

export interface SignalOptions {
  /** Pause after a 429 that says nothing about when to come back. */
  default429PauseMs: number;
  /** No header can pause a scope for longer than this. */
  maxPauseMs: number;
  /**
   * How long the call took. Remaining/reset headers describe the provider's window at some moment
   * during the call, so the pause they ask for is counted from the start of the call: counting from
   * its end would pause a saturated scope for a whole call longer than the provider does.
   */
  latencyMs?: number;
}

function count(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** Read a response's status and `retry-after*` / `x-ratelimit-*` headers (names in lower case). */
export function readLimitSignals(
  status: number | null,
  headers: Readonly<Record<string, string>>,
  options: SignalOptions,
): LimitSignals {
  const rateLimited = status === 429;
  let pauseMs = 0;
  let pauseReason: LimitSignals['pauseReason'];

  // Retry-After on a success means nothing; on a 429 or a 503 it is the provider asking for quiet.
  const retryAfter = status !== null && status >= 400 ? parseRetryAfterMs(headers) : undefined;
  if (retryAfter !== undefined && retryAfter > 0) {
    pauseMs = retryAfter;
    pauseReason = 'retry_after';
  }

  const latency = Math.max(0, options.latencyMs ?? 0);
  for (const kind of ['requests', 'tokens'] as const) {
    const remaining = count(headers[`x-ratelimit-remaining-${kind}`]);
    const reset = headers[`x-ratelimit-reset-${kind}`];
    if (remaining === undefined || remaining > 0 || reset === undefined) continue;
    const resetMs = parseDurationMs(reset);
    if (resetMs === undefined) continue;
    const wait = Math.ceil(resetMs - latency);
    if (wait > pauseMs) {
      pauseMs = wait;
      pauseReason = 'exhausted';
    }
  }

  if (rateLimited && pauseMs <= 0) {
    pauseMs = options.default429PauseMs;
    pauseReason = 'rate_limited';
  }
  pauseMs = Math.min(Math.max(0, pauseMs), options.maxPauseMs);
  return {
    rateLimited,
    pauseMs,
    pauseReason: pauseMs > 0 ? pauseReason : undefined,
    limitRequests: count(headers['x-ratelimit-limit-requests']),
    limitTokens: count(headers['x-ratelimit-limit-tokens']),
  };
}
