import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/**
 * A Lua script run by its SHA1 (EVALSHA): Redis keeps scripts it has seen, so the source travels only
 * when Redis answers NOSCRIPT (it restarted, or its script cache was flushed). Keys get the client's key
 * prefix, as with EVAL.
 */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
