// The bundled bugs must be real: on the buggy code exactly the named failing tests fail, and with
// the bundled fix (applied the way a model's answer is) every test passes — under real pytest.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Parser } from 'web-tree-sitter';
import { createPythonParser } from '../../extraction/index.js';
import { extractPatch } from './answer.js';
import { applyPatch } from './apply.js';
import { parseBugs, sourceModules, type Bug } from './dataset.js';

const file = new URL('../../../../datasets/repair-example.jsonl', import.meta.url);
const scratch: string[] = [];
let parser: Parser;
beforeAll(async () => {
  parser = await createPythonParser();
});
afterAll(async () => {
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

/** Per-test outcomes of a pytest run over `files` (node id → PASSED/FAILED/ERROR). */
async function pytest(files: Record<string, string>): Promise<Record<string, string>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-repair-'));
  scratch.push(dir);
  for (const [p, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    await writeFile(path.join(dir, p), content);
  }
  const out = await new Promise<string>((resolve) =>
    execFile(
      'python3',
      ['-m', 'pytest', '-q', '-rA', '-p', 'no:cacheprovider', '--rootdir', dir],
      { cwd: dir, timeout: 60_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
      (_err, stdout, stderr) => resolve(`${stdout}${stderr}`),
    ),
  );
  const outcomes: Record<string, string> = {};
  for (const m of out.matchAll(/^(PASSED|FAILED|ERROR) (\S+)/gm)) outcomes[m[2]!] = m[1]!;
  return outcomes;
}

describe('datasets/repair-example.jsonl', () => {
  it('is what datasets/repair-example/build.js writes', async () => {
    const build = (await import('../../../../datasets/repair-example/build.js')) as { jsonl(): string };
    expect(await readFile(file, 'utf8')).toBe(build.jsonl());
  });

  it('parses: ~20 single-function bugs over several categories, each with failing tests and a fix', async () => {
    const text = await readFile(file, 'utf8');
    const { bugs, errors } = parseBugs(text);
    expect(errors).toEqual([]);
    expect(bugs.length).toBeGreaterThanOrEqual(20);
    expect(new Set(bugs.map((b) => b.category)).size).toBeGreaterThanOrEqual(5);
    for (const b of bugs) expect(b.failingTests?.length, b.bugId).toBeGreaterThan(0);
  });

  it('each bug fails exactly its failing tests, and its fix passes them all', { timeout: 240_000 }, async () => {
    const text = await readFile(file, 'utf8');
    const fixes = new Map(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { bug_id: string; fix: Record<string, string> })
        .map((r) => [r.bug_id, r.fix]),
    );
    const check = async (bug: Bug): Promise<void> => {
      const before = await pytest({ ...bug.files, ...bug.testFiles });
      const failing = Object.keys(before)
        .filter((t) => before[t] !== 'PASSED')
        .sort();
      expect(failing, bug.bugId).toEqual([...(bug.failingTests ?? [])].sort());
      const answer = Object.values(fixes.get(bug.bugId) ?? {})
        .map((code) => `\`\`\`python\n${code}\`\`\``)
        .join('\n');
      const patch = extractPatch(parser, answer);
      if ('reason' in patch) throw new Error(`${bug.bugId}: ${patch.message}`);
      const applied = applyPatch(parser, bug.files, sourceModules(bug), patch);
      if (!applied.ok) throw new Error(`${bug.bugId}: ${applied.message}`);
      const after = await pytest({ ...applied.files, ...bug.testFiles });
      expect(
        Object.values(after).every((o) => o === 'PASSED'),
        `${bug.bugId}: ${JSON.stringify(after)}`,
      ).toBe(true);
      expect(Object.keys(after).sort(), bug.bugId).toEqual(Object.keys(before).sort());
    };
    // pytest start-up dominates; three at a time on two cores.
    const queue = [...parseBugs(text).bugs];
    await Promise.all(
      Array.from({ length: 3 }, async () => {
        for (let bug = queue.shift(); bug; bug = queue.shift()) await check(bug);
      }),
    );
  });
});
