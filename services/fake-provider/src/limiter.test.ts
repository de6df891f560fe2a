import { describe, expect, it } from 'vitest';
import { SlidingWindowLimiter } from './limiter.js';

describe('SlidingWindowLimiter', () => {
  it('refuses the request past the RPM until the oldest leaves the window', () => {
    const limiter = new SlidingWindowLimiter(2, undefined);
    expect(limiter.take(0, 10).headers['x-ratelimit-remaining-requests']).toBe('1');
    expect(limiter.take(10_000, 10).headers).toMatchObject({
      'x-ratelimit-limit-requests': '2',
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '50s',
    });
    const refused = limiter.take(30_000, 10);
    expect(refused).toMatchObject({ admitted: false, tooLarge: false, retryAfterMs: 30_000 });
    expect(limiter.take(59_999, 10).admitted).toBe(false);
    expect(limiter.take(60_000, 10).admitted).toBe(true);
    expect(limiter.take(60_001, 10).retryAfterMs).toBe(9_999);
  });

  it('counts tokens and waits until enough of them expire', () => {
    const limiter = new SlidingWindowLimiter(undefined, 1000);
    expect(limiter.take(0, 400).admitted).toBe(true);
    expect(limiter.take(1000, 400).headers['x-ratelimit-remaining-tokens']).toBe('200');
    // 700 more needs both earlier requests gone: the second leaves at 61 s.
    const refused = limiter.take(2000, 700);
    expect(refused).toMatchObject({ admitted: false, retryAfterMs: 59_000 });
    expect(refused.headers).toMatchObject({ 'x-ratelimit-limit-tokens': '1000', 'x-ratelimit-reset-tokens': '58s' });
    expect(limiter.take(2000, 200).admitted).toBe(true);
    expect(limiter.take(2000, 1001).tooLarge).toBe(true);
    limiter.reset();
    expect(limiter.take(2000, 1000).admitted).toBe(true);
  });

  it('uses the window it is given', () => {
    const limiter = new SlidingWindowLimiter(1, undefined, 1000);
    expect(limiter.take(0, 1).admitted).toBe(true);
    expect(limiter.take(999, 1)).toMatchObject({ admitted: false, retryAfterMs: 1 });
    expect(limiter.take(1000, 1).headers['x-ratelimit-reset-requests']).toBe('1s');
  });
});
