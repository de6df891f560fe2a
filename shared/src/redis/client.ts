import { Redis } from 'ioredis';

export interface RedisConfig {
  /** `redis://[:password@]host:port[/db]` */
  url: string;
  /** Prepended to every key (e.g. `evalfleet:`), so fleets and tests sharing one Redis stay apart. */
  keyPrefix: string;
  /** Connect on the first command (or `connect()`) instead of at construction. */
  lazyConnect?: boolean;
  /** Reconnection attempts a queued command waits through before it fails. Default 3. */
  maxRetriesPerRequest?: number;
  /** A command without a reply after this long fails, so a hung server cannot hang a worker. Default 5000. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
  connectionName?: string;
}

/** The one logger method the client needs; pino's `logger.warn(obj, msg)` fits. */
export interface RedisWarnLogger {
  warn(obj: object, msg: string): void;
}

const reconnectBaseMs = 100;
const reconnectCapMs = 5_000;

/** Exponential backoff from 100 ms, capped at 5 s, with up to 10% jitter so a fleet does not reconnect in step. */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 16);
  const delay = Math.min(reconnectCapMs, reconnectBaseMs * 2 ** exponent);
  return Math.round(delay * (1 + 0.1 * random()));
}

/** The URL without its password, for logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable redis url>';
  }
}

/**
 * An ioredis client that keeps reconnecting forever (with capped backoff) but lets each command
 * fail after a few attempts, so a handler sees `redis_unavailable` instead of hanging while
 * Redis is down. Connection errors are logged, never thrown as unhandled 'error' events.
 */
export function createRedis(config: RedisConfig, logger?: RedisWarnLogger): Redis {
  const where = redactRedisUrl(config.url);
  const redis = new Redis(config.url, {
    keyPrefix: config.keyPrefix,
    lazyConnect: config.lazyConnect ?? false,
    maxRetriesPerRequest: config.maxRetriesPerRequest ?? 3,
    commandTimeout: config.commandTimeoutMs ?? 5_000,
    connectTimeout: config.connectTimeoutMs ?? 5_000,
    connectionName: config.connectionName,
    retryStrategy: (attempt) => reconnectDelayMs(attempt),
  });
  let lastLogged = '';
  redis.on('error', (err: Error) => {
    const code = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
    // While Redis stays down every reconnect fails the same way; log each kind of failure once per outage.
    const signature = `${err.name}:${code ?? err.message}`;
    if (signature === lastLogged) return;
    lastLogged = signature;
    logger?.warn({ err: { name: err.name, message: err.message, code }, redis: where }, 'redis connection error');
  });
  redis.on('ready', () => {
    lastLogged = '';
  });
  return redis;
}
