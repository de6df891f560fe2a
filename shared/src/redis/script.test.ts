import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { scratchRedisAndStore, type Scratch } from '../../../test/support/scratch.js';
import { LuaScript } from './index.js';

describe('LuaScript', () => {
  let scratch: Scratch;

  beforeAll(async () => {
    scratch = await scratchRedisAndStore('lua-script');
  });
  afterAll(() => scratch.cleanup());

  it('sends the source once, when Redis does not know the script, then runs it by its SHA', async () => {
    const { redis } = scratch;
    // A source no Redis has seen: the first run meets NOSCRIPT.
    const script = new LuaScript(`-- ${randomUUID()}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])`);
    const evalsha = vi.spyOn(redis, 'evalsha');
    const evalSource = vi.spyOn(redis, 'eval');
    expect(await redis.script('EXISTS', script.sha)).toEqual([0]);
    expect(await script.run(redis, ['n'], [2])).toBe(2);
    expect([evalsha.mock.calls.length, evalSource.mock.calls.length]).toEqual([1, 1]);
    expect(await redis.script('EXISTS', script.sha)).toEqual([1]);
    expect(await script.run(redis, ['n'], [3])).toBe(5);
    expect([evalsha.mock.calls.length, evalSource.mock.calls.length]).toEqual([2, 1]);
    // The key carries the client's prefix, as with EVAL: the prefixed client reads it back.
    expect(await redis.get('n')).toBe('5');
  });

  it('passes a script error on instead of retrying it', async () => {
    const { redis } = scratch;
    const script = new LuaScript(`return redis.call('INCR', KEYS[1])`);
    await redis.set('text', 'not a number');
    await expect(script.run(redis, ['text'], [])).rejects.toThrow(/not an integer/);
    expect(await redis.get('text')).toBe('not a number');
  });
});
