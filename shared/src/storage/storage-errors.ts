import { ErrorCodes, PermanentError, RetryableError } from '../errors/index.js';

/** Codes the stores add to the shared ones (`not_found`, `storage_unavailable`). */
export const StorageErrorCodes = {
  notFound: ErrorCodes.notFound,
  unavailable: ErrorCodes.storageUnavailable,
  invalidKey: 'invalid_key',
  /** The filesystem store cannot hold both `a` and `a/b`; S3 can. */
  keyConflict: 'key_conflict',
  accessDenied: 'storage_access_denied',
  bucketNotFound: 'bucket_not_found',
  /** Any other request the store refused (4xx): retrying the same request will not help. */
  rejected: 'storage_rejected',
} as const;

export function notFound(store: string, key: string, cause?: unknown): PermanentError {
  return new PermanentError(StorageErrorCodes.notFound, `no object ${JSON.stringify(key)} in ${store}`, {
    cause,
    details: { key, store },
  });
}

export function unavailable(store: string, op: string, key: string | undefined, cause: unknown): RetryableError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new RetryableError(StorageErrorCodes.unavailable, `${store} ${op} failed: ${reason}`, {
    cause,
    details: { store, op, ...(key === undefined ? {} : { key }) },
  });
}
