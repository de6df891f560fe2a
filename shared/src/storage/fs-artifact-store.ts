import { randomUUID } from 'node:crypto';
import {
  closeSync,
  constants,
  createReadStream,
  createWriteStream,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdir, open, readdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { PermanentError } from '../errors/index.js';
import type { ArtifactStore, ObjectHead, ObjectRef, PutOptions, PutStreamOptions } from './artifact-store.js';
import { digestOf, digestTap, sha256Hex, toBuffer } from './digest.js';
import { assertValidKey, assertValidPrefix } from './keys.js';
import { StorageErrorCodes, notFound, unavailable } from './storage-errors.js';

/**
 * Temporary files live in one directory under the root (same filesystem, so rename and link
 * are atomic) rather than beside their targets, so listings never see half-written files.
 */
const tmpDirName = '.evalfleet-tmp';

export interface FsArtifactStoreOptions {
  root: string;
}

function errnoCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/**
 * The zero-setup store for a single machine. Every write goes to a temporary file first and is
 * moved into place with rename (put) or link (putIfAbsent), so readers see the old object or
 * the whole new one, never a partial one. Content types are not kept.
 */
export class FsArtifactStore implements ArtifactStore {
  readonly root: string;
  private readonly tmpDir: string;
  private readonly name: string;
  // Directories this store made or found (a write's parent is made once, not on every write: two system
  // calls of the ~7 a write takes). Something else may remove one: a write that then fails with ENOENT
  // makes it again and retries once.
  private readonly madeDirs = new Set<string>();
  // Calls that went synchronously (see syncBytes), for giving the event loop a turn every so often.
  private syncCalls = 0;

  constructor(options: FsArtifactStoreOptions) {
    this.root = path.resolve(options.root);
    this.tmpDir = path.join(this.root, tmpDirName);
    this.name = pathToFileURL(this.root).href;
  }

  describe(): string {
    return this.name;
  }

  async ensureReady(): Promise<void> {
    try {
      await mkdir(this.tmpDir, { recursive: true });
    } catch (err) {
      throw this.mapError(err, 'ensureReady', undefined, 'write');
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  async put(key: string, body: Buffer | string, _opts?: PutOptions): Promise<ObjectRef> {
    await this.turn();
    const target = this.pathFor(key);
    const bytes = toBuffer(body);
    const tmp = await this.writeTemp(key, bytes);
    try {
      this.intoParent(key, target, () => renameSync(tmp, target));
    } catch (err) {
      removeQuietly(tmp);
      throw this.mapError(err, 'put', key, 'write');
    }
    return { key, size: bytes.length, sha256: sha256Hex(bytes) };
  }

  async putIfAbsent(
    key: string,
    body: Buffer | string,
    _opts?: PutOptions,
  ): Promise<{ created: boolean; ref: ObjectRef }> {
    await this.turn();
    const target = this.pathFor(key);
    const bytes = toBuffer(body);
    // Many calls find the object there (content-addressed keys, a resubmitted run's problems): a stat
    // answers them before any temporary file is written.
    const present = this.isFile(target, key) ? await this.getOptional(key) : undefined;
    if (present) return { created: false, ref: { key, size: present.length, sha256: sha256Hex(present) } };
    const tmp = await this.writeTemp(key, bytes);
    try {
      // link() fails with EEXIST instead of replacing, which makes the check-and-write atomic.
      this.intoParent(key, target, () => linkSync(tmp, target));
      return { created: true, ref: { key, size: bytes.length, sha256: sha256Hex(bytes) } };
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST') throw this.mapError(err, 'putIfAbsent', key, 'write');
    } finally {
      removeQuietly(tmp);
    }
    const existing = await this.head(key);
    return { created: false, ref: { key, size: existing.size, sha256: existing.sha256 } };
  }

  async putStream(key: string, body: Readable, _opts?: PutStreamOptions): Promise<ObjectRef> {
    const target = this.pathFor(key);
    const tmp = this.tempPath(key);
    const tap = digestTap();
    try {
      await pipeline(body, tap.stream, createWriteStream(tmp, { flags: 'wx' }));
    } catch (err) {
      removeQuietly(tmp);
      // A failing source is the caller's error; only our own file system errors are mapped.
      if (body.errored !== null) throw err;
      throw this.mapError(err, 'putStream', key, 'write');
    }
    try {
      this.intoParent(key, target, () => renameSync(tmp, target));
    } catch (err) {
      removeQuietly(tmp);
      throw this.mapError(err, 'putStream', key, 'write');
    }
    return { key, ...tap.result() };
  }

  async get(key: string): Promise<Buffer> {
    await this.turn();
    const target = this.pathFor(key);
    try {
      return this.readSmall(target, key) ?? (await readFile(target));
    } catch (err) {
      throw this.mapError(err, 'get', key, 'read');
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
    const target = this.pathFor(key);
    try {
      // Opening first turns a missing key into not_found here rather than an error event later.
      const handle = await open(target, 'r');
      const isFile = await handle.stat().then(
        (s) => s.isFile(),
        () => false,
      );
      if (!isFile) {
        await handle.close();
        throw notFound(this.name, key);
      }
      return handle.createReadStream();
    } catch (err) {
      throw this.mapError(err, 'getStream', key, 'read');
    }
  }

  async exists(key: string): Promise<boolean> {
    await this.turn();
    return this.isFile(this.pathFor(key), key);
  }

  /** The filesystem keeps no metadata, so the hash is computed by reading the file. */
  async head(key: string): Promise<Required<ObjectHead>> {
    const target = this.pathFor(key);
    try {
      const info = await stat(target);
      if (!info.isFile()) throw notFound(this.name, key);
      return await digestOf(createReadStream(target));
    } catch (err) {
      throw this.mapError(err, 'head', key, 'read');
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    assertValidPrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const baseKey = slash === -1 ? '' : prefix.slice(0, slash);
    const keys: string[] = [];
    try {
      await this.collect(baseKey, keys);
    } catch (err) {
      throw this.mapError(err, 'list', prefix, 'read');
    }
    // Sorted as S3 sorts (by UTF-8 bytes), so both stores list in the same order.
    const matching = keys.filter((key) => key.startsWith(prefix));
    matching.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    yield* matching;
  }

  async delete(key: string): Promise<void> {
    const target = this.pathFor(key);
    try {
      await unlink(target);
    } catch (err) {
      const code = errnoCode(err);
      // A directory is not a key, so deleting it is deleting a missing key.
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EPERM') return;
      throw this.mapError(err, 'delete', key, 'write');
    }
  }

  private async collect(dirKey: string, into: string[]): Promise<void> {
    const dir = dirKey === '' ? this.root : path.join(this.root, ...dirKey.split('/'));
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    for (const entry of entries) {
      if (dirKey === '' && entry.name === tmpDirName) continue;
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (entry.isDirectory()) await this.collect(key, into);
      else if (entry.isFile()) into.push(key);
    }
  }

  private pathFor(key: string): string {
    assertValidKey(key);
    if (key === tmpDirName || key.startsWith(`${tmpDirName}/`)) {
      throw new PermanentError(StorageErrorCodes.invalidKey, `storage key prefix ${tmpDirName}/ is reserved`, {
        details: { key },
      });
    }
    return path.join(this.root, ...key.split('/'));
  }

  /**
   * Every `turnEvery`th call waits for the event loop's next turn first. A chain of calls that all complete
   * synchronously (a finalize reading every result of a large run) would otherwise run as one stretch of
   * microtasks, with no timer, socket or health check served until it ends.
   */
  private async turn(): Promise<void> {
    this.syncCalls += 1;
    if (this.syncCalls % turnEvery === 0) await setImmediate();
  }

  /** Whether `target` is a file (a stat: a directory or nothing there is not an object). */
  private isFile(target: string, key: string): boolean {
    try {
      return statSync(target, { throwIfNoEntry: false })?.isFile() ?? false;
    } catch (err) {
      if (errnoCode(err) === 'ENOTDIR') return false;
      throw this.mapError(err, 'exists', key, 'read');
    }
  }

  /** The whole file when it is at most `syncBytes` long; undefined for a larger one (read it asynchronously). */
  private readSmall(target: string, key: string): Buffer | undefined {
    // O_NONBLOCK: a FIFO placed under the root must not block the event loop (it is not an object anyway).
    const fd = openSync(target, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const info = fstatSync(fd);
      if (!info.isFile()) throw notFound(this.name, key);
      return info.size <= syncBytes ? readFileSync(fd) : undefined;
    } finally {
      closeSync(fd);
    }
  }

  private tempPath(key: string): string {
    try {
      this.makeDir(this.tmpDir);
    } catch (err) {
      throw this.mapError(err, 'put', key, 'write');
    }
    return path.join(this.tmpDir, `${randomUUID()}.tmp`);
  }

  /** A new temporary file holding `bytes`: written synchronously up to `syncBytes`, asynchronously above. */
  private async writeTemp(key: string, bytes: Buffer): Promise<string> {
    const write = (file: string) =>
      bytes.length <= syncBytes ? writeFileSync(file, bytes, { flag: 'wx' }) : writeFile(file, bytes, { flag: 'wx' });
    let tmp = this.tempPath(key);
    try {
      try {
        await write(tmp);
      } catch (err) {
        if (errnoCode(err) !== 'ENOENT') throw err;
        this.madeDirs.delete(this.tmpDir);
        tmp = this.tempPath(key);
        await write(tmp);
      }
    } catch (err) {
      removeQuietly(tmp);
      throw this.mapError(err, 'put', key, 'write');
    }
    return tmp;
  }

  /** `move` (a rename or link to `target`) after making the key's folder, once per folder and process. */
  private intoParent(key: string, target: string, move: () => void): void {
    if (!key.includes('/')) return move();
    const dir = path.dirname(target);
    this.makeDir(dir);
    try {
      move();
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err;
      // The folder went away since this store made it: make it again.
      this.madeDirs.delete(dir);
      this.makeDir(dir);
      move();
    }
  }

  private makeDir(dir: string): void {
    if (this.madeDirs.has(dir)) return;
    mkdirSync(dir, { recursive: true });
    if (this.madeDirs.size >= maxRememberedDirs) this.madeDirs.clear();
    this.madeDirs.add(dir);
  }

  private mapError(err: unknown, op: string, key: string | undefined, mode: 'read' | 'write'): Error {
    if (err instanceof PermanentError) return err;
    const code = errnoCode(err);
    if (mode === 'read' && (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR')) {
      return notFound(this.name, key ?? '', err);
    }
    if (mode === 'write' && (code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST')) {
      return new PermanentError(
        StorageErrorCodes.keyConflict,
        `${this.name} cannot store ${JSON.stringify(key)}: a key is also used as a folder`,
        { cause: err, details: { key, store: this.name } },
      );
    }
    if (code === 'EACCES' || code === 'EROFS') {
      return new PermanentError(StorageErrorCodes.accessDenied, `${this.name} ${op} refused: ${code}`, {
        cause: err,
        details: { key, store: this.name, op },
      });
    }
    return unavailable(this.name, op, key, err);
  }
}

/**
 * Bodies up to this size are written and read with synchronous system calls. On a local file system such a
 * call takes microseconds, where each asynchronous one costs a round trip through libuv's thread pool (~30-100
 * µs of CPU): a stored result took six of them. Larger bodies, and every stream, stay asynchronous, so the
 * event loop never waits on a big transfer; folders, renames and links are single metadata calls, always
 * synchronous.
 */
const syncBytes = 256 * 1024;

/** Synchronous calls between two turns of the event loop (see `turn`). */
const turnEvery = 64;

/** Folders a store remembers having made (a run's are a few; a bound keeps a long-lived process small). */
const maxRememberedDirs = 10_000;

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone, or never created
  }
}
