import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../errors/index.js';
import { createRedis } from '../redis/index.js';
import {
  createFleetLimiter,
  scopeRedisKeys,
  type FleetLimiter,
  type FleetLimiterOptions,
  type RateLimitScope,
} from './index.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

let raw: Redis;
let prefix: string;
const opened: { limiter: FleetLimiter; redis: Redis }[] = [];

beforeAll(() => {
  raw = new Redis(redisUrl);
});
afterAll(async () => {
  await raw.quit();
});
beforeEach(() => {
  prefix = `evalfleet-test:${randomUUID()}:`;
});
afterEach(async () => {
  for (const { limiter, redis } of opened.splice(0)) {
    await limiter.close();
    redis.disconnect();
  }
  const keys = await raw.keys(`${prefix}*`);
  if (keys.length > 0) await raw.del(...keys);
});

/** A limiter with its own connection, as another process would have; short period for fast tests. */
function limiter(options: Partial<FleetLimiterOptions> = {}): FleetLimiter {
  const redis = createRedis({ url: redisUrl, keyPrefix: prefix });
  const created = createFleetLimiter({ redis, periodMs: 1000, marginMs: 0, heartbeatMs: 100, ...options });
  opened.push({ limiter: created, redis });
  return created;
}

function scope(limits: Partial<RateLimitScope> = {}): RateLimitScope {
  return { key: 'model:test', provider: 'fake', rpm: undefined, tpm: undefined, ...limits };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('fleet limiter', () => {
  it('admits up to the request limit, then says how long until the window frees a slot', async () => {
    const s = scope({ rpm: 3 });
    const a = limiter();
    for (let i = 0; i < 3; i += 1) await a.acquire(s, { tokens: 10, maxWaitMs: 0 });
    const err = await rejection(a.acquire(s, { tokens: 10, maxWaitMs: 0 }));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'rate_limited_wait', retryable: true });
    const { retryAfterMs } = err as RetryableError;
    expect(retryAfterMs).toBeGreaterThan(800);
    expect(retryAfterMs).toBeLessThanOrEqual(1000);
    expect(await a.status(s)).toMatchObject({ requests: 3, effectiveRpm: 3 });
  });

  it('waits for capacity within maxWaitMs instead of failing', async () => {
    const s = scope({ rpm: 2 });
    const a = limiter();
    await a.acquire(s, { tokens: 0 });
    await a.acquire(s, { tokens: 0 });
    const started = performance.now();
    const third = await a.acquire(s, { tokens: 0, maxWaitMs: 3000 });
    expect(performance.now() - started).toBeGreaterThan(900);
    expect(third.waitedMs).toBeGreaterThan(900);
  });

  it('reconciles refunds and overruns exactly, and cancel gives request and tokens back', async () => {
    const s = scope({ rpm: 100, tpm: 1000 });
    const a = limiter();
    const first = await a.acquire(s, { tokens: 300, maxWaitMs: 0 });
    expect(await a.status(s)).toMatchObject({ requests: 1, tokens: 300 });
    await first.reconcile(200);
    expect(await a.status(s)).toMatchObject({ requests: 1, tokens: 200 });
    const second = await a.acquire(s, { tokens: 500, maxWaitMs: 0 });
    await second.reconcile(650);
    expect(await a.status(s)).toMatchObject({ requests: 2, tokens: 850 });
    // A second settle of the same reservation changes nothing.
    await second.reconcile(10);
    await second.cancel();
    expect((await a.status(s)).tokens).toBe(850);

    const never = await a.acquire(s, { tokens: 100, maxWaitMs: 0 });
    expect(await a.status(s)).toMatchObject({ requests: 3, tokens: 950 });
    await never.cancel();
    expect(await a.status(s)).toMatchObject({ requests: 2, tokens: 850 });

    await expect(a.acquire(s, { tokens: 151, maxWaitMs: 0 })).rejects.toMatchObject({ code: 'rate_limited_wait' });
    await a.acquire(s, { tokens: 150, maxWaitMs: 0 });
    expect(await a.status(s)).toMatchObject({ requests: 3, tokens: 1000 });
  });

  it('refuses a request larger than the whole token limit at once', async () => {
    const s = scope({ tpm: 1000 });
    const a = limiter();
    const started = performance.now();
    const err = await rejection(a.acquire(s, { tokens: 1001, maxWaitMs: 60_000 }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err).toMatchObject({ code: 'request_too_large', retryable: false });
    expect(performance.now() - started).toBeLessThan(1000);
    await a.acquire(s, { tokens: 1000, maxWaitMs: 0 });
  });

  it("pauses the scope for every instance on a 429's retry-after, cuts the rate and lets it recover", async () => {
    const s = scope({ rpm: 10 });
    const a = limiter();
    const b = limiter();
    await b.acquire(s, { tokens: 1 });
    const before = performance.now();
    await a.observe(s, { status: 429, headers: { 'retry-after-ms': '600', 'retry-after': '1' } });
    const paused = await b.status(s);
    expect(paused).toMatchObject({ pauseReason: 'retry_after', effectiveRpm: 8 });
    expect(paused.factor).toBeCloseTo(0.8, 2);
    await expect(b.acquire(s, { tokens: 1, maxWaitMs: 0 })).rejects.toMatchObject({ code: 'rate_limited_wait' });
    await b.acquire(s, { tokens: 1, maxWaitMs: 5000 });
    expect(performance.now() - before).toBeGreaterThanOrEqual(600);
    // 0.1 of the limit back per period: full rate two periods after the cut.
    await expect.poll(async () => (await b.status(s)).factor, { timeout: 4000, interval: 100 }).toBe(1);
    expect((await b.status(s)).effectiveRpm).toBe(10);
  });

  it('cuts the rate once per burst of 429s, and the cut limits admissions', async () => {
    const s = scope({ rpm: 10 });
    const a = limiter({ periodMs: 60_000, marginMs: 0 });
    for (let i = 0; i < 5; i += 1) await a.observe(s, { status: 429, headers: { 'retry-after-ms': '1' } });
    const cut = await a.status(s);
    expect(cut.effectiveRpm).toBe(8);
    expect(cut.factor).toBeCloseTo(0.8, 3);
    for (let i = 0; i < 8; i += 1) await a.acquire(s, { tokens: 1, maxWaitMs: 100 });
    await expect(a.acquire(s, { tokens: 1, maxWaitMs: 100 })).rejects.toMatchObject({ code: 'rate_limited_wait' });
  });

  it('pauses until reset when the provider reports nothing remaining, counted from the start of the call', async () => {
    const s = scope({ rpm: 10 });
    const a = limiter();
    const headers = { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '900ms' };
    await a.observe(s, { status: 200, headers, latencyMs: 400 });
    const status = await a.status(s);
    expect(status.pauseReason).toBe('exhausted');
    expect(status.pausedForMs).toBeGreaterThan(400);
    expect(status.pausedForMs).toBeLessThanOrEqual(500);
    expect(status.factor).toBe(1);
  });

  it('caps the scope at a lower limit the provider reports, and lifts the cap when it reports ours', async () => {
    const s = scope({ rpm: 10 });
    const a = limiter();
    await a.observe(s, { status: 200, headers: { 'x-ratelimit-limit-requests': '4' } });
    expect((await a.status(s)).effectiveRpm).toBe(4);
    for (let i = 0; i < 4; i += 1) await a.acquire(s, { tokens: 1, maxWaitMs: 0 });
    await expect(a.acquire(s, { tokens: 1, maxWaitMs: 0 })).rejects.toMatchObject({ code: 'rate_limited_wait' });
    await a.observe(s, { status: 200, headers: { 'x-ratelimit-limit-requests': '10' } });
    expect((await a.status(s)).effectiveRpm).toBe(10);
    await a.acquire(s, { tokens: 1, maxWaitMs: 0 });
  });

  it('does not let a stream of small requests starve a large one', async () => {
    const s = scope({ tpm: 1000 });
    const a = limiter({ periodMs: 500, jitterMs: 0 });
    const b = limiter({ periodMs: 500, jitterMs: 0 });
    let stop = false;
    const small = async (l: FleetLimiter): Promise<void> => {
      while (!stop) await l.acquire(s, { tokens: 100, maxWaitMs: 5000 });
    };
    const lanes = [small(a), small(a), small(b), small(b)];
    await new Promise((resolve) => setTimeout(resolve, 150));
    const big = await b.acquire(s, { tokens: 900, maxWaitMs: 5000 });
    stop = true;
    await Promise.all(lanes);
    // Without the hold every freed 100 tokens would go to a small request and the large one would wait forever.
    expect(big.waitedMs).toBeLessThan(1500);
  });

  it('honours an abort signal while waiting', async () => {
    const s = scope({ rpm: 1 });
    const a = limiter({ periodMs: 10_000 });
    await a.acquire(s, { tokens: 0 });
    const controller = new AbortController();
    const waiting = a.acquire(s, { tokens: 0, maxWaitMs: 20_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(waiting).rejects.toMatchObject({ code: 'request_aborted', retryable: true });
  });

  it('admits calls in a scope without limits, but still honours its pauses', async () => {
    const s = scope();
    const a = limiter();
    for (let i = 0; i < 50; i += 1) await a.acquire(s, { tokens: 10_000, maxWaitMs: 0 });
    expect((await a.status(s)).requests).toBe(0);
    await a.observe(s, { status: 429, headers: { 'retry-after-ms': '500' } });
    await expect(a.acquire(s, { tokens: 1, maxWaitMs: 0 })).rejects.toMatchObject({ code: 'rate_limited_wait' });
  });

  it('puts reservations back after Redis loses the scope, pausing it while instances replay', async () => {
    const s = scope({ rpm: 4 });
    const a = limiter({ periodMs: 5000, warmupMs: 400 });
    const b = limiter({ periodMs: 5000, warmupMs: 400 });
    for (let i = 0; i < 4; i += 1) await a.acquire(s, { tokens: 5, maxWaitMs: 0 });
    await raw.del(...scopeRedisKeys(s.key).map((k) => `${prefix}${k}`));
    // A's heartbeat notices and replays without A asking for anything.
    await expect.poll(async () => (await b.status(s)).requests, { timeout: 2000, interval: 50 }).toBe(4);
    expect(await b.status(s)).toMatchObject({ tokens: 20 });
    const err = await rejection(b.acquire(s, { tokens: 5, maxWaitMs: 0 }));
    expect(err).toMatchObject({ code: 'rate_limited_wait' });
    // Still full after the warm-up: the replayed reservations keep their original admission times.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expect(b.acquire(s, { tokens: 5, maxWaitMs: 0 })).rejects.toMatchObject({ code: 'rate_limited_wait' });
  });

  it('fails closed when Redis cannot be reached, except in scopes without limits', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const redis = createRedis({ url: `redis://127.0.0.1:${port}`, keyPrefix: 'down:', maxRetriesPerRequest: 0 });
    const metrics = new Registry();
    const down = createFleetLimiter({ redis, metrics });
    opened.push({ limiter: down, redis });
    const limited = scope({ rpm: 1000 });
    const err = await rejection(down.acquire(limited, { tokens: 1, maxWaitMs: 500 }));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'redis_unavailable' });
    expect((err as RetryableError).retryAfterMs).toBeGreaterThanOrEqual(1000);
    await down.acquire(scope(), { tokens: 1, maxWaitMs: 0 });
    expect(await metrics.getSingleMetricAsString('evalfleet_ratelimit_denied_total')).toContain(
      'evalfleet_ratelimit_denied_total{scope="model:test",reason="redis_unavailable"} 1',
    );
  });

  it('counts admissions, waits, pauses, 429s and tokens in the given registry', async () => {
    const s = scope({ rpm: 1, tpm: 100 });
    const metrics = new Registry();
    const a = limiter({ metrics });
    const r = await a.acquire(s, { tokens: 40 });
    await r.reconcile(25);
    await expect(a.acquire(s, { tokens: 1, maxWaitMs: 0 })).rejects.toMatchObject({ code: 'rate_limited_wait' });
    await a.observe(s, { status: 429, headers: { 'retry-after': '1' } });
    const text = await metrics.metrics();
    expect(text).toContain('evalfleet_ratelimit_admitted_total{scope="model:test"} 1');
    expect(text).toContain('evalfleet_ratelimit_denied_total{scope="model:test",reason="max_wait"} 1');
    expect(text).toContain('evalfleet_ratelimit_pauses_total{scope="model:test",reason="retry_after"} 1');
    expect(text).toContain('evalfleet_ratelimit_provider_429_total{provider="fake"} 1');
    expect(text).toContain('evalfleet_ratelimit_tokens_reserved_total{scope="model:test"} 40');
    expect(text).toContain('evalfleet_ratelimit_tokens_actual_total{scope="model:test"} 25');
    expect(text).toContain('evalfleet_ratelimit_rate_factor{scope="model:test"} 0.8');
    expect(text).toContain('evalfleet_ratelimit_wait_seconds_count{scope="model:test"} 1');
    // A second limiter on the same registry reuses the metrics instead of failing to register them.
    limiter({ metrics });
  });
});
