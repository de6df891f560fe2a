import type { RetryPolicy } from '../messages/index.js';
import { delayTierHeader } from './names.js';

/** Message headers as amqplib hands them over (values decoded from the AMQP table). */
export type HeaderTable = Record<string, unknown>;

/** The headers evalfleet puts on retried, dead-lettered and requeued messages. */
export const FailureHeaders = {
  attempt: 'x-evalfleet-attempt',
  errorCode: 'x-evalfleet-error-code',
  errorMessage: 'x-evalfleet-error-message',
  lastErrorCode: 'x-evalfleet-last-error-code',
  lastErrorMessage: 'x-evalfleet-last-error-message',
  stage: 'x-evalfleet-stage',
  attempts: 'x-evalfleet-attempts',
  firstFailureAt: 'x-evalfleet-first-failure-at',
  lastFailureAt: 'x-evalfleet-last-failure-at',
  originalRoutingKey: 'x-evalfleet-original-routing-key',
  history: 'x-evalfleet-history',
  requeuedCount: 'x-evalfleet-requeued-count',
} as const;

/** One past failure (or requeue) of a message, kept in `x-evalfleet-history`. */
export type HistoryEntry = {
  at: string;
  action: 'retry' | 'dead_letter' | 'requeue';
  code: string;
  message?: string;
  stage?: string;
  attempt?: number;
};

export type Failure = { code: string; message: string };

const maxErrorMessage = 500;
const maxHistoryMessage = 160;
const maxHistoryEntries = 20;
// amqplib refuses header tables over 64 KiB; the history stays far below that.
const maxHistoryBytes = 8_192;

// Headers the broker owns: copying them onto a republished message would confuse its own
// bookkeeping (x-death counts, delivery counts) or route it to a delay queue again.
const brokerOwned = /^x-(death|first-death-|last-death-|delivery-count)/;

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

export function headerString(headers: HeaderTable | undefined, name: string): string | undefined {
  const v = headers?.[name];
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return undefined;
}

export function headerNumber(headers: HeaderTable | undefined, name: string): number | undefined {
  const v = headers?.[name];
  const n = typeof v === 'number' ? v : typeof v === 'bigint' || typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Headers to carry onto a message we republish: ours and the application's, not the broker's. */
export function carriedHeaders(headers: HeaderTable | undefined): HeaderTable {
  const out: HeaderTable = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (!brokerOwned.test(k) && k !== delayTierHeader) out[k] = v;
  }
  return out;
}

export function readHistory(headers: HeaderTable | undefined): HistoryEntry[] {
  const raw = headerString(headers, FailureHeaders.history);
  if (!raw) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter(isHistoryEntry) : [];
  } catch {
    return [];
  }
}

function isHistoryEntry(v: unknown): v is HistoryEntry {
  return typeof v === 'object' && v !== null && 'at' in v && 'code' in v && 'action' in v;
}

/** The history with `entry` appended, as header text bounded in entries and bytes (oldest dropped first). */
export function appendHistory(headers: HeaderTable | undefined, entry: HistoryEntry): string {
  const compact: HistoryEntry = {
    ...entry,
    ...(entry.message === undefined ? {} : { message: truncate(entry.message, maxHistoryMessage) }),
  };
  const list = [...readHistory(headers), compact].slice(-maxHistoryEntries);
  let text = JSON.stringify(list);
  while (Buffer.byteLength(text) > maxHistoryBytes && list.length > 1) {
    list.shift();
    text = JSON.stringify(list);
  }
  return text;
}

/** Headers of the copy that goes to a delay queue: attempt, last error, first/last failure, history. */
export function retryHeaders(
  headers: HeaderTable | undefined,
  f: { failure: Failure; stage: string; attempt: number; tierMs: number; now: Date },
): HeaderTable {
  const at = f.now.toISOString();
  return {
    ...carriedHeaders(headers),
    [FailureHeaders.attempt]: f.attempt + 1,
    [FailureHeaders.lastErrorCode]: f.failure.code,
    [FailureHeaders.lastErrorMessage]: truncate(f.failure.message, maxErrorMessage),
    [FailureHeaders.firstFailureAt]: headerString(headers, FailureHeaders.firstFailureAt) ?? at,
    [FailureHeaders.lastFailureAt]: at,
    [FailureHeaders.history]: appendHistory(headers, {
      at,
      action: 'retry',
      code: f.failure.code,
      message: f.failure.message,
      stage: f.stage,
      attempt: f.attempt,
    }),
    [delayTierHeader]: String(f.tierMs),
  };
}

/** Reason headers of a message we dead-letter (`lastError`: the handler's error behind `attempts_exhausted`). */
export function deadLetterHeaders(
  headers: HeaderTable | undefined,
  f: { failure: Failure; stage: string; attempts: number; routingKey: string; now: Date; lastError?: Failure },
): HeaderTable {
  const at = f.now.toISOString();
  return {
    ...carriedHeaders(headers),
    ...(f.lastError
      ? {
          [FailureHeaders.lastErrorCode]: f.lastError.code,
          [FailureHeaders.lastErrorMessage]: truncate(f.lastError.message, maxErrorMessage),
        }
      : {}),
    [FailureHeaders.errorCode]: f.failure.code,
    [FailureHeaders.errorMessage]: truncate(f.failure.message, maxErrorMessage),
    [FailureHeaders.stage]: f.stage,
    [FailureHeaders.attempts]: f.attempts,
    [FailureHeaders.firstFailureAt]: headerString(headers, FailureHeaders.firstFailureAt) ?? at,
    [FailureHeaders.lastFailureAt]: at,
    [FailureHeaders.originalRoutingKey]: f.routingKey,
    [FailureHeaders.history]: appendHistory(headers, {
      at,
      action: 'dead_letter',
      code: f.failure.code,
      message: f.failure.message,
      stage: f.stage,
      attempt: f.attempts,
    }),
  };
}

/**
 * Headers of a message moved from a DLQ back to work: the dead-letter reason becomes a history
 * entry, the attempt restarts at 1, the requeue count goes up; first-failure-at stays.
 */
export function requeueHeaders(headers: HeaderTable | undefined, reason: Failure, now: Date): HeaderTable {
  const out = carriedHeaders(headers);
  for (const k of [FailureHeaders.errorCode, FailureHeaders.errorMessage, FailureHeaders.attempts]) delete out[k];
  return {
    ...out,
    [FailureHeaders.attempt]: 1,
    [FailureHeaders.requeuedCount]: (headerNumber(headers, FailureHeaders.requeuedCount) ?? 0) + 1,
    [FailureHeaders.history]: appendHistory(headers, {
      at: now.toISOString(),
      action: 'requeue',
      code: reason.code,
      message: reason.message,
    }),
  };
}

/** The smallest tier that waits at least `wantedMs`, or the longest tier when none does. */
export function chooseDelayTier(tiers: readonly number[], wantedMs: number): number {
  const sorted = [...tiers].sort((a, b) => a - b);
  const last = sorted[sorted.length - 1];
  if (last === undefined) throw new Error('no delay tiers configured');
  return sorted.find((t) => t >= wantedMs) ?? last;
}

/** The delay a message type's retry policy asks for after failed attempt `attempt` (1-based). */
export function policyDelayMs(policy: RetryPolicy, attempt: number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return retryAfterMs;
  const idx = Math.min(Math.max(attempt - 1, 0), policy.delaysMs.length - 1);
  return policy.delaysMs[idx] ?? 0;
}

type XDeathEntry = { reason?: unknown; time?: unknown; 'routing-keys'?: unknown };

function latestDeath(headers: HeaderTable | undefined): XDeathEntry | undefined {
  const deaths = headers?.['x-death'];
  // The broker keeps the most recent death first.
  return Array.isArray(deaths) && typeof deaths[0] === 'object' && deaths[0] !== null
    ? (deaths[0] as XDeathEntry)
    : undefined;
}

/**
 * Why a message sits in a DLQ: our reason headers, or for messages the broker dead-lettered itself
 * (delivery limit) its `x-death` entry.
 */
export function deadLetterReason(headers: HeaderTable | undefined): Failure {
  const code = headerString(headers, FailureHeaders.errorCode);
  if (code) return { code, message: headerString(headers, FailureHeaders.errorMessage) ?? '' };
  const reason = latestDeath(headers)?.reason;
  if (typeof reason === 'string') return { code: reason, message: `dead-lettered by the broker (${reason})` };
  return { code: 'unknown', message: 'no reason recorded' };
}

/** Why and at which stage a message was dead-lettered (our headers, else the broker's `x-death`). */
export function deadLetterOrigin(headers: HeaderTable | undefined): Failure & { stage: string | undefined } {
  const stage =
    headerString(headers, FailureHeaders.stage) ?? /^stage\.(.+)$/.exec(originalRoutingKey(headers, ''))?.[1];
  return { ...deadLetterReason(headers), stage };
}

/** When a message reached the DLQ: our last-failure header, else the broker's `x-death` time (seconds). */
export function deadLetteredAt(headers: HeaderTable | undefined): Date | undefined {
  const ours = headerString(headers, FailureHeaders.lastFailureAt);
  if (ours && !Number.isNaN(Date.parse(ours))) return new Date(ours);
  const time = latestDeath(headers)?.time;
  if (typeof time === 'object' && time !== null && 'value' in time && typeof time.value === 'number') {
    return new Date(time.value * 1000);
  }
  return undefined;
}

/** The routing key a dead-lettered message was originally published with. */
export function originalRoutingKey(headers: HeaderTable | undefined, fallback: string): string {
  const ours = headerString(headers, FailureHeaders.originalRoutingKey);
  if (ours) return ours;
  const keys = latestDeath(headers)?.['routing-keys'];
  return Array.isArray(keys) && typeof keys[0] === 'string' ? keys[0] : fallback;
}
