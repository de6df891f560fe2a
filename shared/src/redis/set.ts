import type { Redis } from 'ioredis';
import { mapRedisError } from './errors.js';

/** A plain Redis set of strings, without expiry (it outlives runs); `add` answers how many were new. */
export class RedisStringSet {
  private readonly redis: Redis;
  private readonly key: string;

  constructor(redis: Redis, key: string) {
    this.redis = redis;
    this.key = key;
  }

  async members(): Promise<Set<string>> {
    try {
      return new Set(await this.redis.smembers(this.key));
    } catch (err) {
      throw mapRedisError(err, 'smembers');
    }
  }

  async add(members: readonly string[]): Promise<number> {
    if (members.length === 0) return 0;
    try {
      return await this.redis.sadd(this.key, ...members);
    } catch (err) {
      throw mapRedisError(err, 'sadd');
    }
  }
}
