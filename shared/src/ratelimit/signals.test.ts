import { describe, expect, it } from 'vitest';
import { readLimitSignals } from './signals.js';

const options = { default429PauseMs: 1000, maxPauseMs: 600_000 };

describe('readLimitSignals', () => {
  it('pauses for retry-after-ms, then retry-after, on a 429', () => {
    expect(readLimitSignals(429, { 'retry-after-ms': '1500', 'retry-after': '2' }, options)).toMatchObject({
      rateLimited: true,
      pauseMs: 1500,
      pauseReason: 'retry_after',
    });
    expect(readLimitSignals(429, { 'retry-after': '3' }, options)).toMatchObject({ pauseMs: 3000 });
    expect(readLimitSignals(503, { 'retry-after': '3' }, options)).toMatchObject({ rateLimited: false, pauseMs: 3000 });
  });

  it('ignores retry-after on a success and pauses a bare 429 for the default', () => {
    expect(readLimitSignals(200, { 'retry-after': '30' }, options)).toMatchObject({
      pauseMs: 0,
      pauseReason: undefined,
    });
    expect(readLimitSignals(429, {}, options)).toMatchObject({ pauseMs: 1000, pauseReason: 'rate_limited' });
  });

  it('pauses until reset when requests or tokens remaining reach 0, less the call latency', () => {
    const headers = {
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '2s',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '6m0s',
    };
    expect(readLimitSignals(200, headers, options)).toMatchObject({ pauseMs: 360_000, pauseReason: 'exhausted' });
    expect(readLimitSignals(200, headers, { ...options, latencyMs: 1000 }).pauseMs).toBe(359_000);
    const some = { 'x-ratelimit-remaining-requests': '3', 'x-ratelimit-reset-requests': '2s' };
    expect(readLimitSignals(200, some, options).pauseMs).toBe(0);
  });

  it('takes the longer of retry-after and reset, and caps every pause', () => {
    const headers = {
      'retry-after-ms': '500',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '1.5s',
    };
    expect(readLimitSignals(429, headers, options)).toMatchObject({ pauseMs: 1500, pauseReason: 'exhausted' });
    expect(readLimitSignals(429, { 'retry-after': '86400' }, options).pauseMs).toBe(600_000);
  });

  it('reads the limits the provider reports', () => {
    const headers = { 'x-ratelimit-limit-requests': '500', 'x-ratelimit-limit-tokens': '30000' };
    expect(readLimitSignals(200, headers, options)).toMatchObject({ limitRequests: 500, limitTokens: 30_000 });
    expect(readLimitSignals(200, { 'x-ratelimit-limit-requests': 'lots' }, options).limitRequests).toBeUndefined();
  });
});
