import { ErrorCodes, EvalfleetError, RetryableError } from '../errors/index.js';

/**
 * Turns a failed ioredis call into our error classes: a server reply error (wrong type, script
 * error) is a bug and passes through unchanged; everything else means Redis could not be reached.
 */
export function mapRedisError(err: unknown, op: string): Error {
  if (err instanceof EvalfleetError) return err;
  if (err instanceof Error && err.name === 'ReplyError') return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new RetryableError(ErrorCodes.redisUnavailable, `redis ${op} failed: ${reason}`, {
    cause: err,
    details: { op },
  });
}
