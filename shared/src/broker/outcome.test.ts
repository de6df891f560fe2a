import { describe, expect, it } from 'vitest';
import { ErrorCodes, PermanentError, RetryableError } from '../errors/index.js';
import { fullJitterDelay } from './backoff.js';
import { decideOutcome, runGuarded } from './outcome.js';

const entry = { retry: { maxAttempts: 4, delaysMs: [1_000, 5_000, 30_000] } };
const tiers = [1_000, 5_000, 30_000, 120_000];

describe('decideOutcome', () => {
  it('acks a success', () => {
    expect(decideOutcome(undefined, 1, entry, tiers)).toEqual({ action: 'ack' });
  });

  it('retries a RetryableError through the tier of its attempt, the last tier repeating', () => {
    const err = new RetryableError('upstream_5xx', 'bad gateway');
    expect(decideOutcome(err, 1, entry, tiers)).toMatchObject({
      action: 'retry',
      tierMs: 1_000,
      failure: { code: 'upstream_5xx' },
    });
    expect(decideOutcome(err, 2, entry, tiers)).toMatchObject({ action: 'retry', tierMs: 5_000 });
    expect(decideOutcome(err, 3, entry, tiers)).toMatchObject({ action: 'retry', tierMs: 30_000 });
  });

  it('treats a plain Error and a thrown non-error as retryable handler_crashed', () => {
    expect(decideOutcome(new TypeError('x is undefined'), 1, entry, tiers)).toMatchObject({
      action: 'retry',
      failure: { code: ErrorCodes.handlerCrashed, message: 'x is undefined' },
    });
    expect(decideOutcome('boom', 1, entry, tiers)).toMatchObject({
      action: 'retry',
      failure: { code: ErrorCodes.handlerCrashed },
    });
  });

  it('dead-letters a PermanentError at once, whatever the attempt', () => {
    expect(decideOutcome(new PermanentError('over_limit', 'too big'), 1, entry, tiers)).toEqual({
      action: 'dead_letter',
      failure: { code: 'over_limit', message: 'too big' },
    });
  });

  it('dead-letters as attempts_exhausted at the last attempt, keeping the last error', () => {
    const out = decideOutcome(new RetryableError('rate_limited', 'slow down'), 4, entry, tiers);
    expect(out.action).toBe('dead_letter');
    if (out.action !== 'dead_letter') return;
    expect(out.failure.code).toBe(ErrorCodes.attemptsExhausted);
    expect(out.failure.message).toContain('rate_limited: slow down');
    expect(out.lastError).toEqual({ code: 'rate_limited', message: 'slow down' });
  });

  it('lets retryAfterMs pick the smallest tier at least that long', () => {
    const err = new RetryableError('rate_limited', '429', { retryAfterMs: 4_000 });
    expect(decideOutcome(err, 3, entry, tiers)).toMatchObject({ action: 'retry', tierMs: 5_000 });
    const huge = new RetryableError('rate_limited', '429', { retryAfterMs: 10 * 60_000 });
    expect(decideOutcome(huge, 1, entry, tiers)).toMatchObject({ action: 'retry', tierMs: 120_000 });
  });

  it('maps a policy delay onto the nearest longer configured tier (tests use tiny tiers)', () => {
    const err = new RetryableError('x', 'y');
    expect(decideOutcome(err, 1, entry, [200, 400])).toMatchObject({ action: 'retry', tierMs: 400 });
    expect(decideOutcome(err, 1, { retry: { maxAttempts: 3, delaysMs: [150] } }, [200, 400])).toMatchObject({
      tierMs: 200,
    });
  });
});

describe('runGuarded', () => {
  const never = new AbortController().signal;

  it('returns undefined on success and the error on a rejection or a synchronous throw', async () => {
    expect(await runGuarded(() => Promise.resolve(), 1_000, never)).toBeUndefined();
    const err = new Error('rejected');
    expect(await runGuarded(() => Promise.reject(err), 1_000, never)).toBe(err);
    expect(
      await runGuarded(
        () => {
          throw err;
        },
        1_000,
        never,
      ),
    ).toBe(err);
  });

  it('turns a rejection without a reason into an error', async () => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const out = await runGuarded(() => Promise.reject(undefined), 1_000, never);
    expect(out).toBeInstanceOf(Error);
  });

  it('times out a hanging handler as handler_timeout and aborts its signal', async () => {
    let seen: AbortSignal | undefined;
    const out = await runGuarded(
      (signal) => {
        seen = signal;
        return new Promise(() => undefined);
      },
      50,
      never,
    );
    expect(out).toBeInstanceOf(RetryableError);
    expect((out as RetryableError).code).toBe('handler_timeout');
    expect(seen?.aborted).toBe(true);
  });

  it('aborts the handler signal when the parent (the channel) closes', async () => {
    const parent = new AbortController();
    const out = await runGuarded(
      (signal) =>
        new Promise<void>((resolve) => {
          signal.addEventListener('abort', () => resolve());
          parent.abort();
        }),
      1_000,
      parent.signal,
    );
    expect(out).toBeUndefined();
  });
});

describe('fullJitterDelay', () => {
  it('stays within [0, min(cap, base * 2^attempt))', () => {
    expect(fullJitterDelay(1, { baseMs: 100, capMs: 10_000 }, () => 0.999)).toBe(199);
    expect(fullJitterDelay(3, { baseMs: 100, capMs: 10_000 }, () => 0.5)).toBe(400);
    expect(fullJitterDelay(50, { baseMs: 100, capMs: 10_000 }, () => 0.999)).toBe(9_990);
    expect(fullJitterDelay(5, {}, () => 0)).toBe(0);
  });
});
