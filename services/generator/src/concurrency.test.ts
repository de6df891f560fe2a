import { describe, expect, it } from 'vitest';
import { createConcurrencyCap } from './concurrency.js';

describe('concurrency cap', () => {
  it('never runs more than the limit at once and runs everything', async () => {
    const cap = createConcurrencyCap(3);
    let running = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const tasks = Array.from({ length: 20 }, (_, i) =>
      cap.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => release.push(r));
        running -= 1;
        return i;
      }),
    );
    // Release in waves while newcomers keep arriving.
    const extra: Promise<number>[] = [];
    while (release.length > 0 || running > 0) {
      await new Promise((r) => setImmediate(r));
      release.shift()?.();
      if (extra.length < 5) extra.push(cap.run(() => Promise.resolve(100 + extra.length)));
      expect(cap.inFlight()).toBeLessThanOrEqual(3);
    }
    const results = await Promise.all([...tasks, ...extra]);
    expect(results.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(peak).toBe(3);
  });
});
