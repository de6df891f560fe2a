// Every kind's submit reads local files through readLocalText: gzip is recognised by its magic bytes.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testFleetEnv, type TestFleetEnv } from '../../../../test/support/fleet.js';
import { cli } from '../../../../test/support/cli.js';
import { readLocalText } from './submit.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-submit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readLocalText', () => {
  it('decompresses gzip whatever the name, and reads anything else as UTF-8', async () => {
    const text = '{"task_id": "é/1"}\n';
    await writeFile(path.join(dir, 'a.jsonl.gz'), gzipSync(text));
    await writeFile(path.join(dir, 'b.jsonl'), gzipSync(text));
    await writeFile(path.join(dir, 'c.jsonl'), text);
    await writeFile(path.join(dir, 'empty.jsonl'), '');
    expect(readLocalText(path.join(dir, 'a.jsonl.gz'))).toBe(text);
    expect(readLocalText(path.join(dir, 'b.jsonl'))).toBe(text);
    expect(readLocalText(path.join(dir, 'c.jsonl'))).toBe(text);
    expect(readLocalText(path.join(dir, 'empty.jsonl'))).toBe('');
  });

  it('names a file that starts like gzip but is not', async () => {
    const file = path.join(dir, 'broken.jsonl.gz');
    await writeFile(file, Buffer.concat([gzipSync('{"a": 1}\n').subarray(0, 12), Buffer.from('garbage')]));
    expect(() => readLocalText(file)).toThrow(/broken\.jsonl\.gz: not a readable gzip file/);
  });
});

describe('submit with gzipped files', () => {
  let fleetEnv: TestFleetEnv | undefined;
  afterEach(async () => {
    await fleetEnv?.cleanup();
    fleetEnv = undefined;
  });

  it('plans a solve run from a .jsonl.gz dataset and samples file like from the plain ones', async () => {
    fleetEnv = await testFleetEnv('cli-gzip');
    const samples = (await readFile('datasets/evalplus-mini.jsonl', 'utf8'))
      .trim()
      .split('\n')
      // Python's JSON (Infinity): the task id is all this needs.
      .map((line) => JSON.stringify({ task_id: /"task_id": "([^"]+)"/.exec(line)![1], completion: '' }))
      .join('\n');
    const gz = path.join(dir, 'samples.jsonl.gz');
    await writeFile(gz, gzipSync(samples));
    const plan = async (dataset: string, samplesFile: string) => {
      const r = await cli(
        fleetEnv!.env,
        'submit',
        'solve',
        '--dataset',
        dataset,
        '--samples',
        samplesFile,
        '--dry-run',
        '--json',
      );
      expect(r.code, r.err).toBe(0);
      return { plan: JSON.parse(r.out) as { jobs: number; problems: number }, err: r.err };
    };
    const zipped = await plan('datasets/evalplus-mini.jsonl.gz', gz);
    expect(zipped.plan).toMatchObject({ jobs: 6, problems: 6 });
    expect(zipped.err).toContain('6 problems (evalplus)');
    await writeFile(path.join(dir, 'samples.jsonl'), samples);
    expect((await plan('datasets/evalplus-mini.jsonl', path.join(dir, 'samples.jsonl'))).plan).toEqual(zipped.plan);
  });
});
