import type { Readable } from 'node:stream';

/**
 * The claim-check reference carried in messages in place of a large payload:
 * enough to fetch the object and to verify that it is the one that was meant.
 */
export interface ObjectRef {
  key: string;
  size: number;
  /** Lowercase hex SHA-256 of the object's bytes. */
  sha256: string;
}

export interface PutOptions {
  contentType?: string;
}

export interface PutStreamOptions extends PutOptions {
  /**
   * The body's SHA-256 when the caller already knows it. S3 metadata must be sent before the
   * body, so a streamed S3 upload only records `sha256` metadata when it is given here.
   */
  sha256?: string;
}

export interface ObjectHead {
  size: number;
  /** Absent when the store never learnt the hash (an S3 object streamed without a known sha256). */
  sha256?: string;
}

/**
 * Where artifacts live: S3 in a fleet, a directory on a single machine. Keys are
 * '/'-separated relative paths (`runs/<runId>/jobs/<jobId>/verdict.json`).
 * Failures are `RetryableError('storage_unavailable')` when the store cannot be reached and
 * `PermanentError` otherwise (`not_found`, `invalid_key`, ...).
 */
export interface ArtifactStore {
  /** Creates whatever must exist before the first write (the root directory, the bucket). */
  ensureReady(): Promise<void>;
  put(key: string, body: Buffer | string, opts?: PutOptions): Promise<ObjectRef>;
  /** Writes only if nothing is stored under `key`; otherwise leaves the stored object untouched. */
  putIfAbsent(key: string, body: Buffer | string, opts?: PutOptions): Promise<{ created: boolean; ref: ObjectRef }>;
  putStream(key: string, body: Readable, opts?: PutStreamOptions): Promise<ObjectRef>;
  /** Throws `PermanentError('not_found')` when the key is missing. */
  get(key: string): Promise<Buffer>;
  getOptional(key: string): Promise<Buffer | undefined>;
  /** Resolves once the object is known to exist (so `not_found` is thrown here, not mid-stream). */
  getStream(key: string): Promise<Readable>;
  exists(key: string): Promise<boolean>;
  head(key: string): Promise<ObjectHead>;
  /** Every key that starts with `prefix` (a plain string prefix, as in S3), in lexicographic order. */
  list(prefix: string): AsyncIterable<string>;
  /** Removes the key; deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** `s3://bucket` or `file:///dir`, for logs and reports. */
  describe(): string;
  close(): Promise<void>;
}
