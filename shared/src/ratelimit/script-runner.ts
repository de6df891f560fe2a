import type { Redis } from 'ioredis';
import { mapRedisError } from '../redis/errors.js';
import { LuaScript } from '../redis/script.js';
import { scriptSources, type ScriptName } from './scripts.js';

const scripts = Object.fromEntries(
  Object.entries(scriptSources).map(([name, source]) => [name, new LuaScript(source)]),
) as Record<ScriptName, LuaScript>;

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
    reply = await scripts[name].run(redis, keys, args);
  } catch (err) {
    throw mapRedisError(err, `ratelimit.${name}`);
  }
  if (!Array.isArray(reply)) throw new Error(`ratelimit.${name}: unexpected reply ${JSON.stringify(reply)}`);
  return reply.map((item: unknown) => (typeof item === 'string' ? item : String(item)));
}
