/** One request as it reached a provider: when, and what it counted against the token limit. */
export interface TimedCost {
  timeMs: number;
  tokens: number;
}

export interface WindowUsage {
  requests: number;
  tokens: number;
}

function sorted(events: readonly TimedCost[]): TimedCost[] {
  return [...events].sort((a, b) => a.timeMs - b.timeMs);
}

/**
 * The most requests and the most tokens in any sliding window `(t - windowMs, t]` over the events,
 * the way a sliding-window provider counts: to check that a fleet never exceeded a limit.
 */
export function peakWindowUsage(events: readonly TimedCost[], windowMs: number): WindowUsage {
  const list = sorted(events);
  let start = 0;
  let tokens = 0;
  const peak = { requests: 0, tokens: 0 };
  for (let end = 0; end < list.length; end += 1) {
    const event = list[end]!;
    tokens += event.tokens;
    while (list[start]!.timeMs <= event.timeMs - windowMs) tokens -= list[start++]!.tokens;
    peak.requests = Math.max(peak.requests, end - start + 1);
    peak.tokens = Math.max(peak.tokens, tokens);
  }
  return peak;
}

/**
 * Mean requests and tokens per window, over windows ending every `stepMs` from `fromMs` to `toMs`:
 * the steady-state rate a fleet achieved, in the units of its per-window limits.
 */
export function meanWindowUsage(
  events: readonly TimedCost[],
  windowMs: number,
  fromMs: number,
  toMs: number,
  stepMs = 100,
): WindowUsage {
  const list = sorted(events);
  let head = 0;
  let tail = 0;
  let tokens = 0;
  let samples = 0;
  const sum = { requests: 0, tokens: 0 };
  for (let end = fromMs; end <= toMs; end += stepMs) {
    while (head < list.length && list[head]!.timeMs <= end) tokens += list[head++]!.tokens;
    while (tail < head && list[tail]!.timeMs <= end - windowMs) tokens -= list[tail++]!.tokens;
    sum.requests += head - tail;
    sum.tokens += tokens;
    samples += 1;
  }
  return samples === 0
    ? { requests: 0, tokens: 0 }
    : { requests: sum.requests / samples, tokens: sum.tokens / samples };
}
