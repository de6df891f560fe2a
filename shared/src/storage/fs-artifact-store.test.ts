import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsArtifactStore } from './index.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('FsArtifactStore', () => {
  let root: string;
  let store: FsArtifactStore;

  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'evalfleet-fs-'));
    store = new FsArtifactStore({ root });
    await store.ensureReady();
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('describes itself as a file URL of its root', () => {
    expect(store.describe()).toBe(pathToFileURL(root).href);
  });

  it('stores keys as files below the root', async () => {
    await store.put('runs/r1/run.json', '{}');
    expect(await readdir(path.join(root, 'runs', 'r1'))).toEqual(['run.json']);
  });

  // Small bodies are written with synchronous calls, larger ones (over 256 KiB) asynchronously.
  it.each([
    ['small', 1000],
    ['large', 40_000],
  ])('lets exactly one of many concurrent putIfAbsent calls create the object (%s bodies)', async (_size, n) => {
    const bodies = Array.from({ length: 16 }, (_, i) => `writer ${i} `.repeat(n));
    const results = await Promise.all(bodies.map((body) => store.putIfAbsent('claims/one', body)));
    const created = results.filter((r) => r.created);
    expect(created).toHaveLength(1);
    const stored = (await store.get('claims/one')).toString();
    expect(stored).toBe(bodies[results.indexOf(created[0]!)]);
    for (const r of results) expect(r.ref).toEqual(created[0]!.ref);
  });

  it('never shows a reader a half-written object while it is replaced', async () => {
    const a = Buffer.alloc(2 * 1024 * 1024, 'a');
    const b = Buffer.alloc(2 * 1024 * 1024, 'b');
    await store.put('flip', a);
    let writing = true;
    const writes = (async () => {
      try {
        for (let i = 0; i < 20; i += 1) await store.put('flip', i % 2 === 0 ? b : a);
      } finally {
        writing = false;
      }
    })();
    let reads = 0;
    while (writing || reads < 5) {
      const body = await store.get('flip');
      reads += 1;
      expect(body.length).toBe(a.length);
      expect(body.equals(a) || body.equals(b)).toBe(true);
    }
    await writes;
    expect(reads).toBeGreaterThan(0);
  });

  it('leaves no temporary files behind and never lists them', async () => {
    await store.put('a/x', 'x');
    await store.putIfAbsent('a/x', 'y');
    await store.putStream('a/s', Readable.from([Buffer.from('stream')]));
    await expect(
      store.putStream(
        'a/broken',
        Readable.from(
          (async function* () {
            yield Buffer.from('half');
            await Promise.resolve();
            throw new Error('boom');
          })(),
        ),
      ),
    ).rejects.toThrow('boom');
    expect(await readdir(path.join(root, '.evalfleet-tmp'))).toEqual([]);
    expect(await collect(store.list(''))).toEqual(['a/s', 'a/x']);
  });

  it('reserves its temporary folder name', async () => {
    await expect(store.put('.evalfleet-tmp/x', 'x')).rejects.toMatchObject({ code: 'invalid_key' });
  });

  it('reports a key that is also a folder as key_conflict', async () => {
    await store.put('a', 'file');
    await expect(store.put('a/b', 'nested')).rejects.toMatchObject({ code: 'key_conflict', retryable: false });
    await store.put('dir/child', 'x');
    await expect(store.put('dir', 'file')).rejects.toMatchObject({ code: 'key_conflict' });
    // A folder is not an object.
    expect(await store.exists('dir')).toBe(false);
    await expect(store.get('dir')).rejects.toMatchObject({ code: 'not_found' });
    await expect(store.getStream('dir')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('answers a FIFO under its root as a missing key instead of waiting for a writer', async () => {
    execFileSync('mkfifo', [path.join(root, 'pipe')]);
    expect(await store.exists('pipe')).toBe(false);
    await expect(store.get('pipe')).rejects.toMatchObject({ code: 'not_found' });
    expect(await store.getOptional('pipe')).toBeUndefined();
  });

  it('gives the event loop a turn during a long chain of small reads', async () => {
    await store.put('k', 'v');
    let reads = 0;
    let firedAfter = -1;
    setImmediate(() => {
      firedAfter = reads;
    });
    for (; reads < 200; reads += 1) await store.get('k');
    // Every call resolves without waiting on I/O: only the store's own turns let the callback run mid-chain.
    expect(firedAfter).toBeGreaterThanOrEqual(0);
    expect(firedAfter).toBeLessThan(200);
  });

  it('reads an object over the synchronous size (256 KiB) whole', async () => {
    const big = Buffer.alloc(300 * 1024, 'z');
    big.write('head', 0);
    await store.put('big/one', big);
    expect((await store.get('big/one')).equals(big)).toBe(true);
    expect((await store.putIfAbsent('big/one', 'other')).ref.size).toBe(big.length);
  });

  it('creates its root on first write without ensureReady', async () => {
    const fresh = new FsArtifactStore({ root: path.join(root, 'not', 'yet') });
    await fresh.put('k', 'v');
    expect((await fresh.get('k')).toString()).toBe('v');
    expect(await collect(new FsArtifactStore({ root: path.join(root, 'absent') }).list(''))).toEqual([]);
  });
});
