import { describe, expect, it } from 'vitest';
import { RetryableError } from '../errors/index.js';
import { createLocalLimiter } from './local-limiter.js';

/** A call that runs until the test releases it. */
function gate() {
  const started: number[] = [];
  const releases: (() => void)[] = [];
  let running = 0;
  let peak = 0;
  const call = (i: number) => async () => {
    started.push(i);
    running += 1;
    peak = Math.max(peak, running);
    await new Promise<void>((resolve) => releases.push(resolve));
    running -= 1;
    if (i === 1) throw new Error('boom');
    return i * 10;
  };
  return { started, releases, call, peak: () => peak };
}

describe('createLocalLimiter', () => {
  it('runs at most maxConcurrent at once, in arrival order, and frees the slot when a call fails', async () => {
    const limiter = createLocalLimiter({ maxConcurrent: 2 });
    const g = gate();
    const results = [0, 1, 2, 3, 4].map((i) => limiter.run(g.call(i)).catch((err: Error) => err.message));
    await expect.poll(() => g.started.length).toBe(2);
    expect(limiter.running).toBe(2);
    expect(limiter.queued).toBe(3);
    while (g.releases.length > 0 || g.started.length < 5) {
      await expect.poll(() => g.releases.length).toBeGreaterThan(0);
      g.releases.shift()!();
    }
    expect(await Promise.all(results)).toEqual([0, 'boom', 20, 30, 40]);
    expect(g.started).toEqual([0, 1, 2, 3, 4]);
    expect(g.peak()).toBe(2);
    await expect.poll(() => limiter.running + limiter.queued).toBe(0);
    await limiter.stop();
  });

  it('lets a queued caller give up on abort without ever running its call', async () => {
    const limiter = createLocalLimiter({ maxConcurrent: 1 });
    const g = gate();
    const first = limiter.run(g.call(0));
    await expect.poll(() => g.started.length).toBe(1);
    const controller = new AbortController();
    const second = limiter.run(g.call(2), controller.signal).catch((err: unknown) => err);
    await expect.poll(() => limiter.queued).toBe(1);
    controller.abort();
    const err = await second;
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'request_aborted', details: { dispatched: false } });
    g.releases.shift()!();
    expect(await first).toBe(0);
    await expect.poll(() => limiter.running + limiter.queued).toBe(0);
    expect(g.started).toEqual([0]);
    // An already aborted signal never queues.
    await expect(limiter.run(g.call(3), controller.signal)).rejects.toMatchObject({ code: 'request_aborted' });
    await limiter.stop();
  });

  it('spaces call starts by minTimeMs', async () => {
    const limiter = createLocalLimiter({ maxConcurrent: 10, minTimeMs: 80 });
    const queuedAt = performance.now();
    const starts: number[] = [];
    await Promise.all([0, 1, 2].map(() => limiter.run(() => Promise.resolve(starts.push(performance.now())))));
    expect(starts).toHaveLength(3);
    // Lower bounds only (a busy machine can only add delay): the third start waits two spacings.
    // Bottleneck's timers may fire a millisecond early.
    expect(starts[2]! - queuedAt).toBeGreaterThanOrEqual(2 * 80 - 2);
    expect(starts[1]! - queuedAt).toBeGreaterThanOrEqual(80 - 2);
    await limiter.stop();
  });

  it('refuses new calls once stopping, as not dispatched', async () => {
    const limiter = createLocalLimiter({ maxConcurrent: 1 });
    await limiter.stop();
    await expect(limiter.run(() => Promise.resolve(1))).rejects.toMatchObject({
      code: 'shutting_down',
      details: { dispatched: false },
    });
  });

  it('rejects settings that are not positive', () => {
    expect(() => createLocalLimiter({ maxConcurrent: 0 })).toThrow(RangeError);
    expect(() => createLocalLimiter({ maxConcurrent: 1.5 })).toThrow(RangeError);
    expect(() => createLocalLimiter({ maxConcurrent: 1, minTimeMs: -1 })).toThrow(RangeError);
  });
});
