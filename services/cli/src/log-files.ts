import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';

/** `evaluator.2.log` → `evaluator.2`. */
export function instanceOf(file: string): string {
  return path.basename(file).replace(/\.log$/, '');
}

/** Keeps one previous generation: `x.log` becomes `x.log.1` (replacing the older one). */
export async function rotate(file: string): Promise<void> {
  try {
    await rename(file, `${file}.1`);
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'ENOENT')) throw err;
  }
}

/**
 * One append-only log file per instance (`<dir>/<instance>.log`); a restarted instance appends
 * to its file. `start()` rotates the files a previous fleet left, except `keep` (the
 * supervisor's own log, already open).
 */
export class LogFiles {
  private readonly streams = new Map<string, WriteStream>();

  constructor(readonly dir: string) {}

  async start(keep: readonly string[] = []): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const entry of await readdir(this.dir)) {
      if (entry.endsWith('.log') && !keep.includes(entry)) await rotate(path.join(this.dir, entry));
    }
  }

  write(instance: string, line: string): void {
    let stream = this.streams.get(instance);
    if (!stream) {
      stream = createWriteStream(path.join(this.dir, `${instance}.log`), { flags: 'a' });
      // A full disk must not take the fleet down with it; the lines are lost, the services run on.
      stream.on('error', () => undefined);
      this.streams.set(instance, stream);
    }
    stream.write(`${line}\n`);
  }

  async close(): Promise<void> {
    const streams = [...this.streams.values()];
    this.streams.clear();
    await Promise.all(streams.map((s) => new Promise<void>((resolve) => s.end(resolve))));
  }
}

// `partial` stays bytes: a read may end inside a multi-byte character.
type Followed = { offset: number; ino: number | undefined; partial: Buffer };

/**
 * Prints log files line by line: what they hold (the last `tail` lines of each, if given) and,
 * with `follow`, what is appended until `signal` aborts, polling sizes. A file that shrinks or
 * is replaced (truncated, rotated) is read again from its start; files that appear (a new
 * instance) are picked up by `list`, called on every poll.
 */
export async function printLogs(opts: {
  list: () => Promise<string[]>;
  emit: (file: string, line: string) => void;
  tail?: number | undefined;
  follow?: boolean | undefined;
  signal?: AbortSignal | undefined;
  pollMs?: number;
}): Promise<void> {
  const state = new Map<string, Followed>();
  const first = await opts.list();
  for (const file of first) {
    const lines: string[] = [];
    const s: Followed = { offset: 0, ino: undefined, partial: Buffer.alloc(0) };
    await readNew(file, s, (l) => lines.push(l));
    state.set(file, s);
    for (const l of opts.tail === undefined ? lines : lines.slice(-opts.tail)) opts.emit(file, l);
  }
  if (!opts.follow) {
    for (const [file, s] of state) if (s.partial.length > 0) opts.emit(file, s.partial.toString('utf8'));
    return;
  }
  const signal = opts.signal;
  while (!signal?.aborted) {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, opts.pollMs ?? 250);
      signal?.addEventListener('abort', done);
    });
    for (const file of await opts.list()) {
      let s = state.get(file);
      if (!s) {
        s = { offset: 0, ino: undefined, partial: Buffer.alloc(0) };
        state.set(file, s);
      }
      await readNew(file, s, (l) => opts.emit(file, l));
    }
  }
}

/** Reads what was appended since `s.offset`, complete lines to `emit`; starts over on truncation or replacement. */
async function readNew(file: string, s: Followed, emit: (line: string) => void): Promise<void> {
  let info;
  try {
    info = await stat(file);
  } catch {
    return; // rotated away between list and stat: the next poll sees the new file
  }
  if ((s.ino !== undefined && info.ino !== s.ino) || info.size < s.offset) {
    s.offset = 0;
    s.partial = Buffer.alloc(0);
  }
  s.ino = info.ino;
  if (info.size === s.offset) return;
  const fh = await open(file, 'r');
  try {
    const length = info.size - s.offset;
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, s.offset);
    s.offset += bytesRead;
    const data = Buffer.concat([s.partial, buf.subarray(0, bytesRead)]);
    const end = data.lastIndexOf(0x0a);
    s.partial = data.subarray(end + 1);
    if (end < 0) return;
    for (const line of data.subarray(0, end).toString('utf8').split('\n')) emit(line);
  } finally {
    await fh.close();
  }
}
