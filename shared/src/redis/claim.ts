import type { Redis } from 'ioredis';
import { mapRedisError } from './errors.js';
import { LuaScript } from './script.js';

// Deletes the claim only while it still holds this owner's token, so a late release cannot
// remove a claim someone else took after ours expired.
const releaseIfOwnerScript = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

function assertTtl(ttlSeconds: number): void {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`claim ttlSeconds must be a positive integer, got ${ttlSeconds}`);
  }
}

/**
 * Takes `key` for `ttlSeconds` if nobody holds it (SET NX EX): true for exactly one of any
 * number of concurrent callers. `owner` is stored as the value so `releaseClaim` can check it.
 */
export async function claimOnce(redis: Redis, key: string, ttlSeconds: number, owner = '1'): Promise<boolean> {
  assertTtl(ttlSeconds);
  try {
    return (await redis.set(key, owner, 'EX', ttlSeconds, 'NX')) === 'OK';
  } catch (err) {
    throw mapRedisError(err, 'claimOnce');
  }
}

/**
 * Gives a claim back so the work can be claimed again. With `owner`, only that owner's claim
 * is removed. Resolves to whether a claim was removed.
 */
export async function releaseClaim(redis: Redis, key: string, owner?: string): Promise<boolean> {
  try {
    const removed = owner === undefined ? await redis.del(key) : await releaseIfOwnerScript.run(redis, [key], [owner]);
    return removed === 1;
  } catch (err) {
    throw mapRedisError(err, 'releaseClaim');
  }
}
