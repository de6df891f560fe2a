import { core } from 'zod';

/**
 * Failure classes. Every error a handler throws is classified by its type and
 * stable `code`, never by matching message text.
 */
export abstract class EvalfleetError extends Error {
  abstract readonly retryable: boolean;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
    this.name = new.target.name;
  }
}

/** A transient failure (network, 5xx, 429, sandbox infrastructure): try again later. */
export class RetryableError extends EvalfleetError {
  readonly retryable = true;
  /** Optional hint: do not retry before this many milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown>; retryAfterMs?: number },
  ) {
    super(code, message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** A failure that will not go away by retrying (invalid input, over limits): dead-letter it. */
export class PermanentError extends EvalfleetError {
  readonly retryable = false;
}

/** Stable codes used across services. Services may add their own codes; these are the shared ones. */
export const ErrorCodes = {
  invalidJson: 'invalid_json',
  schemaViolation: 'schema_violation',
  unknownKind: 'unknown_kind',
  unknownStage: 'unknown_stage',
  attemptsExhausted: 'attempts_exhausted',
  deliveryLimit: 'delivery_limit',
  handlerCrashed: 'handler_crashed',
  notFound: 'not_found',
  alreadyExists: 'already_exists',
  integrity: 'integrity_mismatch',
  storageUnavailable: 'storage_unavailable',
  brokerUnavailable: 'broker_unavailable',
  redisUnavailable: 'redis_unavailable',
  configInvalid: 'config_invalid',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

function zodIssues(err: core.$ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Reduce anything thrown to `{ code, message, retryable }` for headers, logs and results. A schema
 * validation error (zod) is permanent: the same bytes fail the same way on every attempt.
 */
export function describeError(err: unknown): { code: string; message: string; retryable: boolean } {
  if (err instanceof EvalfleetError) return { code: err.code, message: err.message, retryable: err.retryable };
  if (err instanceof core.$ZodError)
    return { code: ErrorCodes.schemaViolation, message: `validation failed: ${zodIssues(err)}`, retryable: false };
  if (err instanceof Error) return { code: ErrorCodes.handlerCrashed, message: err.message, retryable: true };
  return { code: ErrorCodes.handlerCrashed, message: String(err), retryable: true };
}
