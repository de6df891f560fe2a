import {
  BucketLocationConstraint,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  PutObjectCommand,
  S3Client,
  type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { ErrorCodes, PermanentError, RetryableError } from '../errors/index.js';
import type { ArtifactStore, ObjectHead, ObjectRef, PutOptions, PutStreamOptions } from './artifact-store.js';
import { digestOf, digestTap, sha256Hex, toBuffer } from './digest.js';
import { assertValidKey, assertValidPrefix } from './keys.js';
import { isS3NotFound, mapS3Error, s3ErrorInfo } from './s3-errors.js';
import { StorageErrorCodes, notFound } from './storage-errors.js';

export interface S3ArtifactStoreOptions {
  /** Omit for AWS; set for MinIO, s3rver or any other S3-compatible endpoint. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Omit both keys to use the SDK's default credential chain. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** MinIO and s3rver need path-style URLs (`http://host/bucket/key`). */
  forcePathStyle?: boolean;
  /** Part size of streamed multipart uploads; S3's minimum is 5 MiB. */
  partSizeBytes?: number;
  /** Keys per listing page (S3 caps it at 1000). */
  listPageSize?: number;
  /** Attempts per request inside the SDK before a RetryableError reaches the caller. */
  maxAttempts?: number;
}

const sha256Pattern = /^[0-9a-f]{64}$/;
const knownLocations: ReadonlySet<string> = new Set(Object.values(BucketLocationConstraint));

function isKnownLocation(region: string): region is BucketLocationConstraint {
  return knownLocations.has(region);
}

/** us-east-1 takes no location; regions the SDK does not know (MinIO's own names) are left to the server. */
function locationFor(region: string): { LocationConstraint: BucketLocationConstraint } | undefined {
  if (region === 'us-east-1' || !isKnownLocation(region)) return undefined;
  return { LocationConstraint: region };
}
const minPartSize = 5 * 1024 * 1024;

/**
 * Artifacts in one S3 bucket. The SDK's default flexible checksums are limited to requests that
 * require them, because S3-compatible servers (s3rver, older MinIO) reject aws-chunked uploads.
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly region: string;
  private readonly name: string;
  private readonly partSize: number;
  private readonly listPageSize: number;

  constructor(options: S3ArtifactStoreOptions) {
    if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
      throw new PermanentError(ErrorCodes.configInvalid, 'S3 accessKeyId and secretAccessKey must be given together');
    }
    this.bucket = options.bucket;
    this.region = options.region;
    this.name = `s3://${options.bucket}`;
    this.partSize = Math.max(minPartSize, options.partSizeBytes ?? 8 * 1024 * 1024);
    this.listPageSize = Math.min(1000, Math.max(1, options.listPageSize ?? 1000));
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? false,
      credentials:
        options.accessKeyId !== undefined && options.secretAccessKey !== undefined
          ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
          : undefined,
      maxAttempts: options.maxAttempts ?? 3,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // requestTimeout is an idle timeout, so long transfers are fine while a hung server is not.
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 60_000 },
    });
  }

  describe(): string {
    return this.name;
  }

  async ensureReady(): Promise<void> {
    await this.ensureBucket();
  }

  /** Creates the bucket unless it exists; safe to call from several processes at once. */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (err) {
      const { name, status } = s3ErrorInfo(err);
      if (status !== 404 && name !== 'NotFound' && name !== 'NoSuchBucket') {
        throw mapS3Error(err, this.name, 'ensureBucket', undefined);
      }
    }
    try {
      await this.client.send(
        new CreateBucketCommand({
          Bucket: this.bucket,
          CreateBucketConfiguration: locationFor(this.region),
        }),
      );
    } catch (err) {
      const { name } = s3ErrorInfo(err);
      // Another process won the race to create it.
      if (name === 'BucketAlreadyOwnedByYou' || name === 'BucketAlreadyExists') return;
      throw mapS3Error(err, this.name, 'ensureBucket', undefined);
    }
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }

  async put(key: string, body: Buffer | string, opts?: PutOptions): Promise<ObjectRef> {
    assertValidKey(key);
    const bytes = toBuffer(body);
    const ref = { key, size: bytes.length, sha256: sha256Hex(bytes) };
    try {
      await this.client.send(new PutObjectCommand(this.putInput(ref, bytes, opts)));
    } catch (err) {
      throw mapS3Error(err, this.name, 'put', key);
    }
    return ref;
  }

  /**
   * Sends `If-None-Match: *`, which AWS S3 and MinIO honour atomically. Stores that ignore the
   * header (s3rver) would silently overwrite, so a HEAD goes first; on those stores two
   * concurrent callers can both pass the HEAD and both report `created`.
   */
  async putIfAbsent(
    key: string,
    body: Buffer | string,
    opts?: PutOptions,
  ): Promise<{ created: boolean; ref: ObjectRef }> {
    assertValidKey(key);
    const existing = await this.headOrUndefined(key);
    if (existing !== undefined) return { created: false, ref: await this.refFor(key, existing) };
    const bytes = toBuffer(body);
    const ref = { key, size: bytes.length, sha256: sha256Hex(bytes) };
    try {
      await this.client.send(new PutObjectCommand({ ...this.putInput(ref, bytes, opts), IfNoneMatch: '*' }));
      return { created: true, ref };
    } catch (err) {
      const { name, status } = s3ErrorInfo(err);
      if (status === 412 || name === 'PreconditionFailed') return { created: false, ref: await this.refFor(key) };
      if (status === 409) {
        // AWS answers 409 ConditionalRequestConflict while a competing conditional write is in flight.
        throw new RetryableError(ErrorCodes.storageUnavailable, `${this.name} putIfAbsent raced on ${key}`, {
          cause: err,
          details: { key, store: this.name },
        });
      }
      throw mapS3Error(err, this.name, 'putIfAbsent', key);
    }
  }

  async putStream(key: string, body: Readable, opts?: PutStreamOptions): Promise<ObjectRef> {
    assertValidKey(key);
    const tap = digestTap();
    // Errors of the source reach the upload through the tap, which is destroyed with them.
    body.once('error', (err) => tap.stream.destroy(err));
    body.pipe(tap.stream);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: tap.stream,
        ContentType: opts?.contentType,
        Metadata: opts?.sha256 === undefined ? undefined : { sha256: opts.sha256 },
      },
      partSize: this.partSize,
      // The uploader buffers up to queueSize * partSize bytes.
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      if (body.errored !== null) throw body.errored;
      // Nobody reads the source any more; release it rather than leave it paused forever.
      body.unpipe(tap.stream);
      body.destroy();
      throw mapS3Error(err, this.name, 'putStream', key);
    }
    const ref = { key, ...tap.result() };
    if (opts?.sha256 !== undefined && opts.sha256 !== ref.sha256) {
      await this.delete(key);
      throw new PermanentError(ErrorCodes.integrity, `${key}: streamed body does not match the given sha256`, {
        details: { key, expected: opts.sha256, actual: ref.sha256 },
      });
    }
    return ref;
  }

  async get(key: string): Promise<Buffer> {
    assertValidKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (out.Body === undefined) return Buffer.alloc(0);
      const bytes = await out.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      throw mapS3Error(err, this.name, 'get', key);
    }
  }

  async getOptional(key: string): Promise<Buffer | undefined> {
    try {
      return await this.get(key);
    } catch (err) {
      if (err instanceof PermanentError && err.code === StorageErrorCodes.notFound) return undefined;
      throw err;
    }
  }

  async getStream(key: string): Promise<Readable> {
    assertValidKey(key);
    let out: GetObjectCommandOutput;
    try {
      out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      throw mapS3Error(err, this.name, 'getStream', key);
    }
    if (out.Body === undefined) return Readable.from([]);
    if (out.Body instanceof Readable) return out.Body;
    return Readable.fromWeb(out.Body.transformToWebStream());
  }

  async exists(key: string): Promise<boolean> {
    assertValidKey(key);
    return (await this.headOrUndefined(key)) !== undefined;
  }

  async head(key: string): Promise<ObjectHead> {
    assertValidKey(key);
    const found = await this.headOrUndefined(key);
    if (found === undefined) throw notFound(this.name, key);
    return found;
  }

  /**
   * Pages with ListObjects (v1) and markers: s3rver builds v2 continuation tokens with DES,
   * which OpenSSL 3 (Node >= 17) refuses, and markers work the same on AWS and MinIO.
   */
  async *list(prefix: string): AsyncIterable<string> {
    assertValidPrefix(prefix);
    let marker: string | undefined;
    for (;;) {
      let page;
      try {
        page = await this.client.send(
          new ListObjectsCommand({
            Bucket: this.bucket,
            Prefix: prefix === '' ? undefined : prefix,
            MaxKeys: this.listPageSize,
            Marker: marker,
          }),
        );
      } catch (err) {
        throw mapS3Error(err, this.name, 'list', prefix);
      }
      let last: string | undefined;
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        last = object.Key;
        yield object.Key;
      }
      // Without a delimiter S3 sends no NextMarker: the last key returned is the marker.
      if (page.IsTruncated !== true || last === undefined) return;
      marker = page.NextMarker ?? last;
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (isS3NotFound(err)) return;
      throw mapS3Error(err, this.name, 'delete', key);
    }
  }

  private putInput(ref: ObjectRef, bytes: Buffer, opts: PutOptions | undefined) {
    return {
      Bucket: this.bucket,
      Key: ref.key,
      Body: bytes,
      ContentLength: bytes.length,
      ContentType: opts?.contentType,
      Metadata: { sha256: ref.sha256 },
    };
  }

  private async headOrUndefined(key: string): Promise<ObjectHead | undefined> {
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      const sha256 = out.Metadata?.sha256;
      return {
        size: out.ContentLength ?? 0,
        ...(sha256 !== undefined && sha256Pattern.test(sha256) ? { sha256 } : {}),
      };
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw mapS3Error(err, this.name, 'head', key);
    }
  }

  /** An object written without sha256 metadata (by another tool, or streamed) is hashed by reading it. */
  private async refFor(key: string, known?: ObjectHead): Promise<ObjectRef> {
    const head = known ?? (await this.head(key));
    if (head.sha256 !== undefined) return { key, size: head.size, sha256: head.sha256 };
    return { key, ...(await digestOf(await this.getStream(key))) };
  }
}
