// Log files as `evalfleet logs` reads them: the tail, then what is appended, across truncation,
// rotation, a line written in pieces and a file that appears later.
import { appendFile, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LogFiles, printLogs, rotate } from './log-files.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('log files', () => {
  it('prints the last lines, then follows appends, truncation, rotation and new files until aborted', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-logs-'));
    const a = path.join(dir, 'producer.1.log');
    const b = path.join(dir, 'producer.2.log');
    await writeFile(a, 'one\ntwo\nthree\n');
    const seen: string[] = [];
    const controller = new AbortController();
    const files = [a, b];
    const following = printLogs({
      list: async () => {
        const present = await Promise.all(
          files.map((f) =>
            readFile(f).then(
              () => f,
              () => undefined,
            ),
          ),
        );
        return present.filter((f): f is string => f !== undefined);
      },
      emit: (file, line) => seen.push(`${path.basename(file)} ${line}`),
      tail: 2,
      follow: true,
      signal: controller.signal,
      pollMs: 10,
    });
    await vi.waitFor(() => expect(seen).toEqual(['producer.1.log two', 'producer.1.log three']));

    await appendFile(a, 'four\nfi');
    await vi.waitFor(() => expect(seen.at(-1)).toBe('producer.1.log four'));
    await appendFile(a, 've\n');
    await vi.waitFor(() => expect(seen.at(-1)).toBe('producer.1.log five'));

    await truncate(a, 0);
    await appendFile(a, 'after truncation\n');
    await vi.waitFor(() => expect(seen.at(-1)).toBe('producer.1.log after truncation'));

    await rotate(a);
    await writeFile(a, 'new generation\n');
    await vi.waitFor(() => expect(seen.at(-1)).toBe('producer.1.log new generation'));

    await writeFile(b, 'second instance\n');
    await vi.waitFor(() => expect(seen.at(-1)).toBe('producer.2.log second instance'));

    controller.abort();
    await following;
    expect(seen.filter((l) => l.includes('five'))).toHaveLength(1);
  });

  it('LogFiles keeps one previous generation and appends across an instance restart', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-logs-'));
    await writeFile(path.join(dir, 'evaluator.1.log'), 'old fleet\n');
    await writeFile(path.join(dir, 'up.log'), 'supervisor\n');
    const logs = new LogFiles(dir);
    await logs.start(['up.log']);
    logs.write('evaluator.1', 'first run');
    logs.write('evaluator.1', 'after restart');
    await logs.close();
    expect(await readFile(path.join(dir, 'evaluator.1.log'), 'utf8')).toBe('first run\nafter restart\n');
    expect(await readFile(path.join(dir, 'evaluator.1.log.1'), 'utf8')).toBe('old fleet\n');
    expect(await readFile(path.join(dir, 'up.log'), 'utf8')).toBe('supervisor\n');
  });
});
