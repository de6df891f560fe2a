import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimOnce, createRedis, reconnectDelayMs, redactRedisUrl } from './index.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('createRedis', () => {
  let raw: Redis;

  beforeAll(() => {
    raw = new Redis(redisUrl);
  });
  afterAll(async () => {
    await raw.quit();
  });

  it('applies the key prefix to every command', async () => {
    const prefix = `evalfleet-test:${randomUUID()}:`;
    const redis = createRedis({ url: redisUrl, keyPrefix: prefix, lazyConnect: true });
    try {
      expect(redis.status).toBe('wait');
      await redis.set('counter', '41');
      await redis.incr('counter');
      expect(await raw.get(`${prefix}counter`)).toBe('42');
      expect(await raw.exists('counter')).toBe(0);
      expect(await redis.get('counter')).toBe('42');
    } finally {
      await raw.del(`${prefix}counter`);
      await redis.quit();
    }
  });

  it('fails commands with redis_unavailable instead of hanging when Redis is down, and logs without the password', async () => {
    const port = await closedPort();
    const warnings: { obj: object; msg: string }[] = [];
    const redis = createRedis(
      { url: `redis://:hunter2@127.0.0.1:${port}`, keyPrefix: 'down:', maxRetriesPerRequest: 1 },
      { warn: (obj, msg) => warnings.push({ obj, msg }) },
    );
    try {
      const started = Date.now();
      await expect(redis.get('anything')).rejects.toThrow();
      await expect(claimOnce(redis, 'job', 10)).rejects.toMatchObject({ code: 'redis_unavailable', retryable: true });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(warnings.length).toBeGreaterThan(0);
      expect(warnings[0]!.msg).toBe('redis connection error');
      expect(JSON.stringify(warnings)).toContain('ECONNREFUSED');
      expect(JSON.stringify(warnings)).not.toContain('hunter2');
    } finally {
      redis.disconnect();
    }
  });

  it('backs off exponentially with a cap', () => {
    const noJitter = () => 0;
    expect([1, 2, 3, 4].map((n) => reconnectDelayMs(n, noJitter))).toEqual([100, 200, 400, 800]);
    expect(reconnectDelayMs(50, noJitter)).toBe(5_000);
    expect(reconnectDelayMs(50, () => 0.999)).toBeLessThanOrEqual(5_500);
  });

  it('redacts passwords from URLs', () => {
    expect(redactRedisUrl('redis://user:secret@host:6379/2')).toBe('redis://user:***@host:6379/2');
    expect(redactRedisUrl('redis://host:6379')).toBe('redis://host:6379');
  });
});
