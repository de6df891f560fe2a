export { claimOnce, releaseClaim } from './claim.js';
export { createRedis, reconnectDelayMs, redactRedisUrl, type RedisConfig, type RedisWarnLogger } from './client.js';
export { mapRedisError } from './errors.js';
export { LuaScript } from './script.js';
export { RedisStringSet } from './set.js';
export type { Redis } from 'ioredis';
