import { describe, expect, it } from 'vitest';
import { meanWindowUsage, peakWindowUsage } from './window-usage.js';

describe('window usage', () => {
  const events = [
    { timeMs: 0, tokens: 10 },
    { timeMs: 500, tokens: 20 },
    { timeMs: 999, tokens: 30 },
    { timeMs: 1000, tokens: 40 },
    { timeMs: 2500, tokens: 5 },
  ];

  it('finds the busiest half-open window (t - w, t], in any input order', () => {
    expect(peakWindowUsage([...events].reverse(), 1000)).toEqual({ requests: 3, tokens: 90 });
    expect(peakWindowUsage(events, 1001)).toEqual({ requests: 4, tokens: 100 });
    expect(peakWindowUsage([], 1000)).toEqual({ requests: 0, tokens: 0 });
  });

  it('averages the windows ending at each step', () => {
    // Windows ending at 1000, 2000, 3000: {500, 999, 1000}, {}, {2500}.
    expect(meanWindowUsage(events, 1000, 1000, 3000, 1000)).toEqual({ requests: 4 / 3, tokens: 95 / 3 });
  });
});
