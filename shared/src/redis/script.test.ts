import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRedis, LuaScript } from './index.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('LuaScript', () => {
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

  it('sends the source once, when Redis does not know the script, then runs it by its SHA', async () => {
    // A source no Redis has seen: the first run meets NOSCRIPT.
    const script = new LuaScript(`-- ${randomUUID()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`);
    const evalsha = vi.spyOn(redis, 'evalsha');
    const evalSource = vi.spyOn(redis, 'eval');
    expect(await raw.script('EXISTS', script.sha)).toEqual([0]);
    expect(await script.run(redis, ['n'], [2])).toBe(2);
    expect([evalsha.mock.calls.length, evalSource.mock.calls.length]).toEqual([1, 1]);
    expect(await raw.script('EXISTS', script.sha)).toEqual([1]);
    expect(await script.run(redis, ['n'], [3])).toBe(5);
    expect([evalsha.mock.calls.length, evalSource.mock.calls.length]).toEqual([2, 1]);
    // Keys carry the client's prefix, as with EVAL.
    expect(await raw.get(`${prefix}n`)).toBe('5');
  });

  it('passes a script error on instead of retrying it', async () => {
    const script = new LuaScript(`return redis.call('INCR', KEYS[1])`);
    await redis.set('text', 'not a number');
    await expect(script.run(redis, ['text'], [])).rejects.toThrow(/not an integer/);
    expect(await redis.get('text')).toBe('not a number');
  });
});
