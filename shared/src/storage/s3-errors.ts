import { EvalfleetError, PermanentError } from '../errors/index.js';
import { StorageErrorCodes, notFound, unavailable } from './storage-errors.js';

/** What the SDK attaches to service errors; read defensively because network errors carry less. */
export function s3ErrorInfo(err: unknown): { name: string; status: number | undefined } {
  if (typeof err !== 'object' || err === null) return { name: '', status: undefined };
  const name = 'name' in err && typeof err.name === 'string' ? err.name : '';
  let status: number | undefined;
  if ('$metadata' in err && typeof err.$metadata === 'object' && err.$metadata !== null) {
    const meta = err.$metadata;
    if ('httpStatusCode' in meta && typeof meta.httpStatusCode === 'number') status = meta.httpStatusCode;
  }
  return { name, status };
}

export function isS3NotFound(err: unknown): boolean {
  const { name, status } = s3ErrorInfo(err);
  return name === 'NoSuchKey' || name === 'NotFound' || (status === 404 && name !== 'NoSuchBucket');
}

const accessDeniedNames = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden']);
const transientNames = new Set([
  'SlowDown',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'ServiceUnavailable',
  'InternalError',
]);

/**
 * Classifies by HTTP status and S3 error name, never by message: a missing key is permanent,
 * an unreachable store (no HTTP status at all), 5xx and throttling are retryable.
 */
export function mapS3Error(err: unknown, store: string, op: string, key: string | undefined): EvalfleetError {
  if (err instanceof EvalfleetError) return err;
  const { name, status } = s3ErrorInfo(err);
  if (name === 'NoSuchBucket') {
    return new PermanentError(StorageErrorCodes.bucketNotFound, `${store} does not exist`, {
      cause: err,
      details: { store, op },
    });
  }
  if (isS3NotFound(err)) return notFound(store, key ?? '', err);
  if (status === 403 || accessDeniedNames.has(name)) {
    return new PermanentError(StorageErrorCodes.accessDenied, `${store} ${op} denied (${name || status})`, {
      cause: err,
      details: { store, op, key },
    });
  }
  if (status === undefined || status >= 500 || status === 429 || transientNames.has(name)) {
    return unavailable(store, op, key, err);
  }
  return new PermanentError(StorageErrorCodes.rejected, `${store} ${op} rejected (${status} ${name})`, {
    cause: err,
    details: { store, op, key, status, name },
  });
}
