import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { s3ForTests, uniqueBucketName } from '../../../test/support/s3rver.js';
import { PermanentError } from '../errors/index.js';
import {
  FsArtifactStore,
  S3ArtifactStore,
  contentKey,
  getJson,
  putJson,
  putJsonl,
  readJsonl,
  sha256Hex,
  type ArtifactStore,
} from './index.js';

type StoreFactory = () => Promise<{ store: ArtifactStore; dispose: () => Promise<void> }>;

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const mib = 1024 * 1024;

/** 1 MiB chunks that differ from each other, produced one at a time so the body is never whole in memory. */
function* bigBody(chunks: number): Generator<Buffer> {
  const pattern = createHash('sha512').update('evalfleet').digest();
  for (let i = 0; i < chunks; i += 1) {
    const chunk = Buffer.alloc(mib, pattern);
    chunk.writeUInt32BE(i, 0);
    yield chunk;
  }
}

function expectPermanent(code: string) {
  return expect.objectContaining({ code, retryable: false }) as unknown;
}

/** The behaviour every ArtifactStore must have, registered once per implementation. */
function artifactStoreContract(name: string, factory: StoreFactory): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    let store: ArtifactStore;
    let dispose: () => Promise<void>;
    let base: string;

    beforeAll(async () => {
      ({ store, dispose } = await factory());
      await store.ensureReady();
    });
    afterAll(async () => {
      await dispose();
    });
    beforeEach(() => {
      base = `t-${randomUUID()}/`;
    });

    it('round-trips a text body and returns its size and sha256', async () => {
      const body = 'héllo, wörld\n';
      const ref = await store.put(`${base}greeting.txt`, body, { contentType: 'text/plain' });
      expect(ref).toEqual({
        key: `${base}greeting.txt`,
        size: Buffer.byteLength(body),
        sha256: createHash('sha256').update(body).digest('hex'),
      });
      expect((await store.get(ref.key)).toString('utf8')).toBe(body);
      expect(await store.exists(ref.key)).toBe(true);
      expect(await store.head(ref.key)).toEqual({ size: ref.size, sha256: ref.sha256 });
    });

    it('keeps binary bodies byte for byte, including an empty one', async () => {
      const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const body = Buffer.concat([every, randomBytes(4096), every]);
      const ref = await store.put(`${base}blob.bin`, body);
      expect(ref.size).toBe(body.length);
      expect((await store.get(ref.key)).equals(body)).toBe(true);
      const empty = await store.put(`${base}empty`, Buffer.alloc(0));
      expect(empty.size).toBe(0);
      expect((await store.get(empty.key)).length).toBe(0);
    });

    it('put replaces an existing object', async () => {
      await store.put(`${base}k`, 'first');
      const ref = await store.put(`${base}k`, 'second');
      expect((await store.get(`${base}k`)).toString()).toBe('second');
      expect(ref.sha256).toBe(sha256Hex('second'));
    });

    it('putIfAbsent creates once and then leaves the stored object unchanged', async () => {
      const key = `${base}once.json`;
      const first = await store.putIfAbsent(key, '{"v":1}');
      expect(first.created).toBe(true);
      expect(first.ref).toEqual({ key, size: 7, sha256: sha256Hex('{"v":1}') });
      const second = await store.putIfAbsent(key, '{"v":2, "longer": true}');
      expect(second.created).toBe(false);
      expect(second.ref).toEqual(first.ref);
      expect((await store.get(key)).toString()).toBe('{"v":1}');
    });

    it('reports missing keys as not_found, or as absent where asked', async () => {
      const key = `${base}missing`;
      await expect(store.get(key)).rejects.toBeInstanceOf(PermanentError);
      await expect(store.get(key)).rejects.toEqual(expectPermanent('not_found'));
      await expect(store.head(key)).rejects.toEqual(expectPermanent('not_found'));
      await expect(store.getStream(key)).rejects.toEqual(expectPermanent('not_found'));
      expect(await store.getOptional(key)).toBeUndefined();
      expect(await store.exists(key)).toBe(false);
    });

    it('deletes, and deleting a missing key is not an error', async () => {
      await store.put(`${base}gone`, 'x');
      await store.delete(`${base}gone`);
      expect(await store.exists(`${base}gone`)).toBe(false);
      await expect(store.delete(`${base}gone`)).resolves.toBeUndefined();
    });

    it('lists every key under a prefix, nested ones included, in order', async () => {
      const keys = ['a/2', 'a/1', 'a/sub/3', 'ab/4', 'b/5'].map((k) => `${base}${k}`);
      await Promise.all(keys.map((k) => store.put(k, k)));
      expect(await collect(store.list(`${base}a/`))).toEqual([`${base}a/1`, `${base}a/2`, `${base}a/sub/3`]);
      expect(await collect(store.list(`${base}a`))).toEqual([
        `${base}a/1`,
        `${base}a/2`,
        `${base}a/sub/3`,
        `${base}ab/4`,
      ]);
      expect(await collect(store.list(base))).toHaveLength(5);
      expect(await collect(store.list(`${base}nothing/`))).toEqual([]);
    });

    it('rejects unsafe keys with invalid_key before touching the store', async () => {
      const bad = [
        '',
        '/abs/key',
        'a//b',
        'a/../b',
        '..',
        'a/./b',
        'dir/',
        'nul\0byte',
        'back\\slash',
        'x'.repeat(1025),
      ];
      for (const key of bad) {
        await expect(store.put(key, 'x'), JSON.stringify(key)).rejects.toEqual(expectPermanent('invalid_key'));
        await expect(store.get(key), JSON.stringify(key)).rejects.toEqual(expectPermanent('invalid_key'));
      }
      await expect(collect(store.list('../'))).rejects.toEqual(expectPermanent('invalid_key'));
    });

    it('streams a 20 MiB object in and out without buffering it whole', async () => {
      const chunks = 20;
      const expected = createHash('sha256');
      for (const chunk of bigBody(chunks)) expected.update(chunk);
      const sha256 = expected.digest('hex');

      const ref = await store.putStream(`${base}big.bin`, Readable.from(bigBody(chunks)));
      expect(ref).toEqual({ key: `${base}big.bin`, size: chunks * mib, sha256 });

      const download = await store.getStream(ref.key);
      const actual = createHash('sha256');
      let size = 0;
      let largestChunk = 0;
      for await (const chunk of download as AsyncIterable<Buffer>) {
        actual.update(chunk);
        size += chunk.length;
        largestChunk = Math.max(largestChunk, chunk.length);
      }
      expect(size).toBe(chunks * mib);
      expect(actual.digest('hex')).toBe(sha256);
      expect(largestChunk).toBeLessThan(chunks * mib);
    });

    it('passes a source stream error to the caller and stores nothing', async () => {
      async function* failing(): AsyncGenerator<Buffer> {
        yield Buffer.from('partial');
        await Promise.resolve();
        throw new Error('source broke');
      }
      await expect(store.putStream(`${base}broken`, Readable.from(failing()))).rejects.toThrow('source broke');
      expect(await store.exists(`${base}broken`)).toBe(false);
    });

    it('writes and reads JSON, validating with a schema', async () => {
      const schema = z.object({ model: z.string(), passAt1: z.number() });
      const ref = await putJson(store, `${base}summary.json`, { model: 'm1', passAt1: 0.5 });
      expect(ref.size).toBeGreaterThan(0);
      const value = await getJson(store, `${base}summary.json`, schema);
      expect(value).toEqual({ model: 'm1', passAt1: 0.5 });
      await expect(getJson(store, `${base}summary.json`, z.object({ model: z.number() }))).rejects.toEqual(
        expectPermanent('schema_violation'),
      );
      await store.put(`${base}broken.json`, '{"model": ');
      await expect(getJson(store, `${base}broken.json`)).rejects.toEqual(expectPermanent('invalid_json'));
    });

    it('writes JSONL from arrays and async iterables and reads it back row by row', async () => {
      const rows = Array.from({ length: 5000 }, (_, i) => ({ i, text: `ligne ${i} — ünïcødé 🧪` }));
      await putJsonl(store, `${base}rows.jsonl`, rows);
      expect(await collect(readJsonl(store, `${base}rows.jsonl`))).toEqual(rows);

      async function* generated(): AsyncGenerator<{ i: number }> {
        for (let i = 0; i < 3; i += 1) {
          await Promise.resolve();
          yield { i };
        }
      }
      const ref = await putJsonl(store, `${base}gen.jsonl`, generated());
      expect((await store.get(ref.key)).toString()).toBe('{"i":0}\n{"i":1}\n{"i":2}\n');
      const schema = z.object({ i: z.number().int() });
      expect(await collect(readJsonl(store, ref.key, schema))).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
    });

    it('reads JSONL with CRLF, blank lines and no final newline, and names the bad line', async () => {
      await store.put(`${base}crlf.jsonl`, '{"a":1}\r\n\r\n{"a":2}');
      expect(await collect(readJsonl(store, `${base}crlf.jsonl`))).toEqual([{ a: 1 }, { a: 2 }]);
      await store.put(`${base}bad.jsonl`, '{"a":1}\n{"a":\n{"a":3}\n');
      await expect(collect(readJsonl(store, `${base}bad.jsonl`))).rejects.toEqual(
        expect.objectContaining({ code: 'invalid_json', details: expect.objectContaining({ line: 2 }) as unknown }),
      );
    });

    it('stores equal bodies once under their content key', async () => {
      const body = Buffer.from('same bytes');
      const key = contentKey(`${base}cas`, body, 'txt');
      expect(key).toBe(`${base}cas/${sha256Hex(body)}.txt`);
      expect(contentKey(`${base}cas/`, body, '.txt')).toBe(key);
      expect((await store.putIfAbsent(key, body)).created).toBe(true);
      expect((await store.putIfAbsent(contentKey(`${base}cas`, 'same bytes', 'txt'), body)).created).toBe(false);
      expect(await collect(store.list(`${base}cas/`))).toEqual([key]);
    });
  });
}

artifactStoreContract('fs', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'evalfleet-fs-store-'));
  return {
    store: new FsArtifactStore({ root }),
    dispose: () => rm(root, { recursive: true, force: true }),
  };
});

artifactStoreContract('s3', async () => {
  const s3 = await s3ForTests();
  const store = new S3ArtifactStore({
    ...s3,
    bucket: uniqueBucketName('contract'),
    // 5 MiB parts, so the 20 MiB stream goes through a real multipart upload.
    partSizeBytes: 5 * mib,
  });
  return {
    store,
    dispose: async () => {
      await store.close();
      await s3.stop();
    },
  };
});
