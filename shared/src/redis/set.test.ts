import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedis, RedisStringSet } from './index.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('RedisStringSet', () => {
  let redis: Redis;
  let prefix: string;
  beforeEach(() => {
    prefix = `evalfleet-test:${randomUUID()}:`;
    redis = createRedis({ url: redisUrl, keyPrefix: prefix });
  });
  afterEach(async () => {
    await redis.del('used');
    await redis.quit();
  });

  it('adds members once, counts the new ones, and keeps them without expiry', async () => {
    const set = new RedisStringSet(redis, 'used');
    expect(await set.members()).toEqual(new Set());
    expect(await set.add(['a', 'b'])).toBe(2);
    expect(await set.add(['b', 'c'])).toBe(1);
    expect(await set.add([])).toBe(0);
    expect(await new RedisStringSet(redis, 'used').members()).toEqual(new Set(['a', 'b', 'c']));
    expect(await redis.ttl('used')).toBe(-1);
    const raw = new Redis(redisUrl);
    try {
      expect(await raw.scard(`${prefix}used`)).toBe(3);
    } finally {
      await raw.quit();
    }
  });
});
