import { describe, expect, it } from 'vitest';
import { formatDurationMs, parseDurationMs, parseRetryAfterMs, pickRateLimitHeaders } from './headers.js';
import { estimatePromptTokens, estimateTokens } from './tokens.js';

describe('parseRetryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('prefers retry-after-ms, then seconds, then an HTTP date', () => {
    expect(parseRetryAfterMs({ 'retry-after-ms': '1500', 'retry-after': '9' }, now)).toBe(1500);
    expect(parseRetryAfterMs({ 'retry-after': '2' }, now)).toBe(2000);
    expect(parseRetryAfterMs({ 'retry-after': '0.5' }, now)).toBe(500);
    expect(parseRetryAfterMs({ 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }, now)).toBe(30_000);
    expect(parseRetryAfterMs({ 'retry-after': 'Tue, 31 Dec 2024 23:00:00 GMT' }, now)).toBe(0);
  });

  it('ignores what it cannot read', () => {
    expect(parseRetryAfterMs({}, now)).toBeUndefined();
    expect(parseRetryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfterMs({ 'retry-after-ms': 'x', 'retry-after': '3' }, now)).toBe(3000);
  });
});

describe('pickRateLimitHeaders', () => {
  it('keeps retry and x-ratelimit headers, lower-cased', () => {
    const picked = pickRateLimitHeaders([
      ['Retry-After', '1'],
      ['x-ratelimit-remaining-requests', '4'],
      ['X-RateLimit-Reset-Tokens', '6m0s'],
      ['content-type', 'application/json'],
      ['set-cookie', 'a=b'],
    ]);
    expect(picked).toEqual({
      'retry-after': '1',
      'x-ratelimit-remaining-requests': '4',
      'x-ratelimit-reset-tokens': '6m0s',
    });
  });
});

describe('OpenAI durations', () => {
  it('parses the forms OpenAI sends', () => {
    expect(parseDurationMs('1s')).toBe(1000);
    expect(parseDurationMs('6m0s')).toBe(360_000);
    expect(parseDurationMs('120ms')).toBe(120);
    expect(parseDurationMs('1h2m3.5s')).toBe(3_723_500);
    expect(parseDurationMs('2')).toBe(2000);
    expect(parseDurationMs('3 parsecs')).toBeUndefined();
    expect(parseDurationMs('')).toBeUndefined();
  });

  it('formats and round-trips', () => {
    expect(formatDurationMs(120)).toBe('120ms');
    expect(formatDurationMs(1000)).toBe('1s');
    expect(formatDurationMs(360_000)).toBe('6m0s');
    expect(formatDurationMs(1500)).toBe('1.5s');
    expect(formatDurationMs(-5)).toBe('0ms');
    for (const ms of [0, 7, 999, 1001, 59_999, 61_250, 3_723_500])
      expect(parseDurationMs(formatDurationMs(ms))).toBe(ms);
  });
});

describe('token estimates', () => {
  it('rounds up and adds chat framing', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcde')).toBe(2);
    expect(estimatePromptTokens([])).toBe(3);
    expect(estimatePromptTokens([{ content: 'abcd' }, { content: 'abcdefgh' }])).toBe(3 + 4 + 1 + 4 + 2);
  });
});
