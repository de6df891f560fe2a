import { ErrorCodes, RetryableError, describeError } from '../errors/index.js';
import type { CatalogEntry } from '../messages/index.js';
import { BrokerErrorCodes } from './codes.js';
import { chooseDelayTier, policyDelayMs, type Failure } from './headers.js';

/** What the consumer does with a message once its handler has finished. */
export type Outcome =
  | { action: 'ack' }
  | { action: 'retry'; tierMs: number; failure: Failure }
  | { action: 'dead_letter'; failure: Failure; lastError?: Failure };

/**
 * Map a handler's result to a broker action. `error` is undefined on success. Anything that is not
 * an EvalfleetError counts as retryable (`handler_crashed`); after the policy's last attempt the
 * message is dead-lettered as `attempts_exhausted`, keeping the last error in the message.
 */
export function decideOutcome(
  error: unknown,
  attempt: number,
  entry: Pick<CatalogEntry, 'retry'>,
  tiers: readonly number[],
): Outcome {
  if (error === undefined) return { action: 'ack' };
  const failure = describeError(error);
  if (!failure.retryable) return { action: 'dead_letter', failure: { code: failure.code, message: failure.message } };
  if (attempt >= entry.retry.maxAttempts) {
    return {
      action: 'dead_letter',
      failure: {
        code: ErrorCodes.attemptsExhausted,
        message: `gave up after ${attempt} attempts; last error ${failure.code}: ${failure.message}`,
      },
      lastError: { code: failure.code, message: failure.message },
    };
  }
  const retryAfterMs = error instanceof RetryableError ? error.retryAfterMs : undefined;
  const tierMs = chooseDelayTier(tiers, policyDelayMs(entry.retry, attempt, retryAfterMs));
  return { action: 'retry', tierMs, failure: { code: failure.code, message: failure.message } };
}

/**
 * Run a handler so that nothing it does can escape: a synchronous throw, a rejected promise or a
 * hang past `timeoutMs` all come back as the returned error (undefined on success). On timeout the
 * handler's signal aborts; the handler may keep running in the background, its result is ignored.
 */
export async function runGuarded(
  run: (signal: AbortSignal) => Promise<void>,
  timeoutMs: number,
  parent: AbortSignal,
): Promise<unknown> {
  const timeout = new AbortController();
  const signal = AbortSignal.any([parent, timeout.signal]);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new RetryableError(BrokerErrorCodes.handlerTimeout, `handler exceeded its ${timeoutMs} ms timeout`);
      timeout.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(() => run(signal)), expired]);
    return undefined;
  } catch (err) {
    return err ?? new Error('handler rejected with no reason');
  } finally {
    clearTimeout(timer);
  }
}

/** A thrown value as an Error, for logging (handlers may throw strings, objects or undefined). */
export function asError(v: unknown): Error {
  if (v instanceof Error) return v;
  let text: string;
  try {
    text = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  } catch {
    text = String(v);
  }
  return new Error(`non-error thrown: ${text}`);
}
