import { describe, expect, it } from 'vitest';
import { createConcurrencyCap } from './concurrency.js';

describe('createConcurrencyCap', () => {
  it('runs at most n at once, in arrival order, and frees the slot when a call fails', async () => {
    const cap = createConcurrencyCap(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const task = (i: number) =>
      cap.run(async () => {
        started.push(i);
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        if (i === 1) throw new Error('boom');
        return i * 10;
      });
    const results = [0, 1, 2, 3, 4].map((i) => task(i).catch((err: Error) => err.message));
    await expect.poll(() => started.length).toBe(2);
    expect(cap).toMatchObject({ active: 2, waiting: 3 });
    while (releases.length > 0 || started.length < 5) {
      await expect.poll(() => releases.length).toBeGreaterThan(0);
      releases.shift()!();
    }
    expect(await Promise.all(results)).toEqual([0, 'boom', 20, 30, 40]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(cap).toMatchObject({ active: 0, waiting: 0 });
  });

  it('rejects a cap that is not a positive integer', () => {
    expect(() => createConcurrencyCap(0)).toThrow(RangeError);
    expect(() => createConcurrencyCap(1.5)).toThrow(RangeError);
  });
});
