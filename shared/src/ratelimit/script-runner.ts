import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { mapRedisError } from '../redis/errors.js';
import { scriptSources, type ScriptName } from './scripts.js';

const shas = Object.fromEntries(
  Object.entries(scriptSources).map(([name, source]) => [name, createHash('sha1').update(source).digest('hex')]),
) as Record<ScriptName, string>;

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/**
 * Runs one of the limiter's scripts by its SHA, loading it on NOSCRIPT (a restarted Redis has
 * forgotten it). Keys get the client's key prefix. The reply is a flat list of strings; a Redis
 * that cannot be reached throws RetryableError(redis_unavailable), a script bug a ReplyError.
 */
export async function runScript(
  redis: Redis,
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<string[]> {
  let reply: unknown;
  try {
    try {
      reply = await redis.evalsha(shas[name], keys.length, ...keys, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      reply = await redis.eval(scriptSources[name], keys.length, ...keys, ...args);
    }
  } catch (err) {
    throw mapRedisError(err, `ratelimit.${name}`);
  }
  if (!Array.isArray(reply)) throw new Error(`ratelimit.${name}: unexpected reply ${JSON.stringify(reply)}`);
  return reply.map((item: unknown) => (typeof item === 'string' ? item : String(item)));
}
