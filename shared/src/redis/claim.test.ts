import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimOnce, createRedis, releaseClaim } from './index.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('claimOnce / releaseClaim', () => {
  let raw: Redis;
  let redis: Redis;
  let prefix: string;

  beforeAll(() => {
    raw = new Redis(redisUrl);
  });
  afterAll(async () => {
    await raw.quit();
  });
  beforeEach(() => {
    prefix = `evalfleet-test:${randomUUID()}:`;
    redis = createRedis({ url: redisUrl, keyPrefix: prefix });
  });
  afterEach(async () => {
    await redis.quit();
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length > 0) await raw.del(...keys);
  });

  it('lets exactly one of many concurrent claims win', async () => {
    const others = Array.from({ length: 4 }, () => createRedis({ url: redisUrl, keyPrefix: prefix }));
    try {
      const clients = [redis, ...others];
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => claimOnce(clients[i % clients.length]!, 'job-1:evaluate:0', 60, `w${i}`)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await raw.get(`${prefix}job-1:evaluate:0`)).toBe(`w${winner}`);
    } finally {
      await Promise.all(others.map((c) => c.quit()));
    }
  });

  it('sets the TTL and stores the key under the client prefix', async () => {
    expect(await claimOnce(redis, 'ttl-key', 30)).toBe(true);
    const ttl = await raw.ttl(`${prefix}ttl-key`);
    expect(ttl).toBeGreaterThan(25);
    expect(ttl).toBeLessThanOrEqual(30);
    expect(await raw.exists('ttl-key')).toBe(0);
  });

  it('can be claimed again after release, and only the owner releases a claim', async () => {
    expect(await claimOnce(redis, 'k', 60, 'alice')).toBe(true);
    expect(await claimOnce(redis, 'k', 60, 'bob')).toBe(false);
    expect(await releaseClaim(redis, 'k', 'bob')).toBe(false);
    expect(await raw.get(`${prefix}k`)).toBe('alice');
    expect(await releaseClaim(redis, 'k', 'alice')).toBe(true);
    expect(await claimOnce(redis, 'k', 60, 'bob')).toBe(true);
    expect(await releaseClaim(redis, 'k')).toBe(true);
    expect(await releaseClaim(redis, 'k')).toBe(false);
  });

  it('rejects a TTL that is not a positive whole number of seconds', async () => {
    await expect(claimOnce(redis, 'k', 0)).rejects.toBeInstanceOf(RangeError);
    await expect(claimOnce(redis, 'k', 1.5)).rejects.toBeInstanceOf(RangeError);
    expect(await raw.exists(`${prefix}k`)).toBe(0);
  });
});
