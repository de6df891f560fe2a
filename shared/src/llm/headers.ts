/** Response headers that matter to rate limiting, kept on every response and trace. */
export function pickRateLimitHeaders(headers: Iterable<[string, string]>): Record<string, string> {
  const picked: Record<string, string> = {};
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase();
    if (name === 'retry-after' || name === 'retry-after-ms' || name.startsWith('x-ratelimit-')) picked[name] = value;
  }
  return picked;
}

/**
 * How long a provider asks us to wait, from `retry-after-ms` (milliseconds) or
 * `retry-after` (seconds or an HTTP date). Undefined when neither says anything usable.
 */
export function parseRetryAfterMs(
  headers: Readonly<Record<string, string>>,
  nowMs: number = Date.now(),
): number | undefined {
  const ms = headers['retry-after-ms'];
  if (ms !== undefined && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.ceil(value);
  }
  const after = headers['retry-after']?.trim();
  if (after === undefined || after === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return Math.ceil(Number(after) * 1000);
  const date = Date.parse(after);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

const durationUnits: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 1e-6,
};

/** Parse an OpenAI-style duration (`1s`, `6m0s`, `120ms`, `1h2m3.5s`) to milliseconds. */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const part = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/gy;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(part)) {
    const [whole, amount, unit] = match;
    const factor = unit === undefined ? undefined : durationUnits[unit];
    if (amount === undefined || factor === undefined) return undefined;
    total += Number(amount) * factor;
    consumed += whole.length;
  }
  // Sub-millisecond units leave binary noise (1.001 * 1000); keep microsecond precision.
  return consumed === trimmed.length ? Math.round(total * 1000) / 1000 : undefined;
}

/** Format milliseconds the way OpenAI's `x-ratelimit-reset-*` headers do. */
export function formatDurationMs(ms: number): string {
  const rounded = Math.max(0, Math.ceil(ms));
  if (rounded < 1000) return `${rounded}ms`;
  const hours = Math.floor(rounded / 3_600_000);
  const minutes = Math.floor((rounded % 3_600_000) / 60_000);
  const seconds = (rounded % 60_000) / 1000;
  const secondsText = `${Number.isInteger(seconds) ? seconds : seconds.toFixed(3).replace(/0+$/, '')}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}
