import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3ForTests, uniqueBucketName, type S3TestEndpoint } from '../../../test/support/s3rver.js';
import { RetryableError } from '../errors/index.js';
import { S3ArtifactStore, sha256Hex } from './index.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** A port that refuses connections: bound, closed, and (for the test's short life) not reused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('S3ArtifactStore', () => {
  let s3: S3TestEndpoint;
  let store: S3ArtifactStore;
  let raw: S3Client;
  const bucket = uniqueBucketName('s3-store');

  beforeAll(async () => {
    s3 = await s3ForTests();
    store = new S3ArtifactStore({ ...s3, bucket, listPageSize: 7 });
    await store.ensureBucket();
    raw = new S3Client({
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
  });
  afterAll(async () => {
    raw.destroy();
    await store.close();
    await s3.stop();
  });

  it('describes itself as s3://bucket', () => {
    expect(store.describe()).toBe(`s3://${bucket}`);
  });

  it('ensureBucket is idempotent, also when called concurrently', async () => {
    const other = new S3ArtifactStore({ ...s3, bucket: uniqueBucketName('ensure') });
    try {
      await Promise.all([other.ensureBucket(), other.ensureBucket(), other.ensureBucket()]);
      await other.ensureBucket();
      await other.put('k', 'v');
      expect((await other.get('k')).toString()).toBe('v');
    } finally {
      await other.close();
    }
  });

  it('stores the sha256 as object metadata', async () => {
    const ref = await store.put('meta/a.txt', 'abc', { contentType: 'text/plain' });
    const head = await raw.send(new HeadObjectCommand({ Bucket: bucket, Key: ref.key }));
    expect(head.Metadata?.sha256).toBe(sha256Hex('abc'));
    expect(head.ContentType).toBe('text/plain');
  });

  it('pages through listings (7 keys per page here) without losing or repeating keys', async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `paged/${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((k) => store.put(k, k)));
    await store.put('paged-not-under-prefix', 'x');
    expect(await collect(store.list('paged/'))).toEqual(keys);
  });

  it('lists past the 1000-key page limit of S3 with the default page size', async () => {
    const big = new S3ArtifactStore({ ...s3, bucket });
    try {
      const keys = Array.from({ length: 1100 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
      for (let i = 0; i < keys.length; i += 50) {
        await Promise.all(keys.slice(i, i + 50).map((k) => big.put(k, '')));
      }
      expect(await collect(big.list('many/'))).toEqual(keys);
    } finally {
      await big.close();
    }
  });

  it('records a streamed object sha256 only when the caller supplies it, and checks it', async () => {
    const body = Buffer.alloc(6 * 1024 * 1024, 7);
    const sha256 = sha256Hex(body);
    const known = await store.putStream('stream/known', Readable.from([body]), { sha256 });
    expect(await store.head(known.key)).toEqual({ size: body.length, sha256 });

    const unknown = await store.putStream('stream/unknown', Readable.from([body]));
    expect(unknown.sha256).toBe(sha256);
    expect(await store.head(unknown.key)).toEqual({ size: body.length });
    // putIfAbsent still returns a full ref for an object without the metadata, by hashing it.
    expect(await store.putIfAbsent('stream/unknown', 'other')).toEqual({ created: false, ref: unknown });

    await expect(
      store.putStream('stream/wrong', Readable.from([body]), { sha256: sha256Hex('something else') }),
    ).rejects.toMatchObject({ code: 'integrity_mismatch', retryable: false });
    expect(await store.exists('stream/wrong')).toBe(false);
  });

  it('hashes objects written by other tools when asked for a ref', async () => {
    await raw.send(new PutObjectCommand({ Bucket: bucket, Key: 'foreign/x', Body: 'written elsewhere' }));
    expect(await store.head('foreign/x')).toEqual({ size: 17 });
    const result = await store.putIfAbsent('foreign/x', 'mine');
    expect(result).toEqual({
      created: false,
      ref: { key: 'foreign/x', size: 17, sha256: sha256Hex('written elsewhere') },
    });
  });

  it('reports a missing bucket as bucket_not_found, not as a missing key', async () => {
    const missing = new S3ArtifactStore({ ...s3, bucket: uniqueBucketName('missing') });
    try {
      await expect(missing.get('k')).rejects.toMatchObject({ code: 'bucket_not_found', retryable: false });
      await expect(missing.getOptional('k')).rejects.toMatchObject({ code: 'bucket_not_found' });
    } finally {
      await missing.close();
    }
  });

  it('reports wrong credentials as storage_access_denied', async () => {
    const denied = new S3ArtifactStore({ ...s3, bucket, accessKeyId: 'WRONG', secretAccessKey: 'WRONG' });
    try {
      await expect(denied.get('meta/a.txt')).rejects.toMatchObject({
        code: 'storage_access_denied',
        retryable: false,
      });
    } finally {
      await denied.close();
    }
  });

  it('reports an unreachable endpoint as a retryable storage_unavailable', async () => {
    const port = await closedPort();
    const down = new S3ArtifactStore({
      ...s3,
      endpoint: `http://127.0.0.1:${port}`,
      bucket,
      maxAttempts: 1,
    });
    try {
      const failure = down.put('k', 'v');
      await expect(failure).rejects.toBeInstanceOf(RetryableError);
      await expect(failure).rejects.toMatchObject({ code: 'storage_unavailable', retryable: true });
      await expect(down.exists('k')).rejects.toMatchObject({ code: 'storage_unavailable' });
      await expect(collect(down.list(''))).rejects.toMatchObject({ code: 'storage_unavailable' });
      const source = Readable.from([Buffer.alloc(1024, 1)]);
      await expect(down.putStream('k', source)).rejects.toMatchObject({ code: 'storage_unavailable' });
      expect(source.destroyed).toBe(true);
    } finally {
      await down.close();
    }
  });
});
