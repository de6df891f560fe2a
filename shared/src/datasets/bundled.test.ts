import { execFile, execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExtractor } from '../extraction/index.js';
import {
  buildProgram,
  buildReferenceProgram,
  listCategories,
  parseProblemSet,
  type ParsedProblemSet,
  type Problem,
  type SandboxProgram,
} from './index.js';

// The bundled problem sets must be correct: every reference solution passes its
// tests under real Python, and an answer that returns None fails them.

const datasetsDir = new URL('../../../datasets/', import.meta.url);
const scratch: string[] = [];

async function load(name: string): Promise<ParsedProblemSet> {
  return parseProblemSet(await readFile(new URL(name, datasetsDir), 'utf8'));
}

/** Run a program the way the sandbox would (no isolation: trusted reference code only). */
async function run(program: SandboxProgram): Promise<{ code: number; output: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-dataset-'));
  scratch.push(dir);
  for (const [name, content] of Object.entries(program.files)) await writeFile(path.join(dir, name), content);
  const [command, ...args] = program.argv;
  return new Promise((resolve) => {
    execFile(
      command ?? 'python3',
      args,
      { cwd: dir, timeout: 60_000, env: { ...process.env, ...program.env } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

/** Run jobs with bounded concurrency (pytest start-up dominates; the machine has 2 cores). */
async function runAll<T, R>(items: readonly T[], fn: (item: T) => Promise<R>, width = 3): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}

function wrongAnswer(problem: Problem): string {
  // Setup code may build values from classes the solution defines (MBPP's trees of Node): keep them.
  const classes = problem.referenceSolution?.match(/^class [\s\S]*?(?=^\S)/gm)?.join('') ?? '';
  return `${classes}def ${problem.entryPoint}(*a, **k):\n    return None\n`;
}

beforeAll(() => {
  try {
    execFileSync('python3', ['-c', 'import pytest'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error('these tests need python3 with pytest on PATH (apt-get install -y python3-pytest)', { cause: err });
  }
});

afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('datasets/solve-example.jsonl', () => {
  it('parses cleanly: ~25 native pytest problems over 5 categories, each with a reference and 3-6 tests', async () => {
    const { format, problems, errors } = await load('solve-example.jsonl');
    expect(errors).toEqual([]);
    expect(format).toBe('native');
    expect(problems.length).toBeGreaterThanOrEqual(25);
    expect(listCategories(problems).map((c) => c.category)).toEqual([
      'algorithms',
      'collections',
      'math',
      'parsing',
      'strings',
    ]);
    for (const p of problems) {
      expect(p.testFormat, p.taskId).toBe('pytest');
      expect(p.referenceSolution, p.taskId).toBeDefined();
      expect(['easy', 'medium', 'hard'], p.taskId).toContain(p.complexity);
      expect(p.tests, p.taskId).toContain(`from solution import ${p.entryPoint}`);
      const tests = p.tests.match(/^def test_/gm)?.length ?? 0;
      expect(tests, p.taskId).toBeGreaterThanOrEqual(3);
      expect(tests, p.taskId).toBeLessThanOrEqual(6);
      expect(p.prompt, p.taskId).toContain(p.entryPoint);
    }
  });

  it('every reference solution passes and a None-returning answer fails, under real pytest', async () => {
    const { problems } = await load('solve-example.jsonl');
    const outcomes = await runAll(problems, async (p) => {
      const good = await run(buildReferenceProgram(p)!);
      const bad = await run(buildProgram(p, wrongAnswer(p), 'full'));
      return { taskId: p.taskId, good, bad };
    });
    for (const { taskId, good, bad } of outcomes) {
      expect(good.code, `${taskId} reference:\n${good.output}`).toBe(0);
      expect(good.output, taskId).toMatch(/\d+ passed/);
      expect(bad.code, `${taskId} wrong answer:\n${bad.output}`).toBe(1);
      expect(bad.output, taskId).toMatch(/\d+ failed/);
    }
  }, 240_000);
});

describe('extraction accepts every bundled reference solution', () => {
  it('as a fenced answer (full code) or a bare completion of the HumanEval prompt', async () => {
    const extractor = await createExtractor();
    const sets = await Promise.all(['solve-example.jsonl', 'humaneval-mini.jsonl', 'mbpp-mini.jsonl'].map(load));
    for (const p of sets.flatMap((s) => s.problems)) {
      const reference = p.referenceSolution!;
      const answer =
        p.referenceMode === 'completion'
          ? reference
          : `Here is my solution.\n\n\`\`\`python\n${reference}\n\`\`\`\n\nIt handles the edge cases.`;
      const result = extractor.extract(answer, { entryPoint: p.entryPoint, prompt: p.starterCode });
      expect(result, p.taskId).toMatchObject({ outcome: 'ok', mode: p.referenceMode });
      expect(result.code?.trim(), p.taskId).toBe(reference.replace(/\r\n/g, '\n').trim());
    }
  });
});

describe('datasets/humaneval-mini.jsonl and mbpp-mini.jsonl', () => {
  it('parse in their own formats', async () => {
    const he = await load('humaneval-mini.jsonl');
    const mbpp = await load('mbpp-mini.jsonl');
    expect([he.format, he.errors, he.problems.length]).toEqual(['humaneval', [], 3]);
    expect([mbpp.format, mbpp.errors, mbpp.problems.length]).toEqual(['mbpp', [], 4]);
    expect(mbpp.problems.map((p) => p.entryPoint)).toEqual([
      'second_largest',
      'circle_sector_area',
      'common_letters',
      'count_leaves',
    ]);
    expect(mbpp.problems.filter((p) => p.challengeTests !== undefined).map((p) => p.taskId)).toEqual(['Mbpp/9002']);
  });

  it('reference programs pass (challenge tests included) and wrong answers fail', async () => {
    const problems = [...(await load('humaneval-mini.jsonl')).problems, ...(await load('mbpp-mini.jsonl')).problems];
    for (const p of problems) {
      const good = await run(buildReferenceProgram(p, { includeChallengeTests: true })!);
      expect(good.code, `${p.taskId}:\n${good.output}`).toBe(0);
      const bad = await run(buildProgram(p, wrongAnswer(p), 'full'));
      expect(bad.code, p.taskId).not.toBe(0);
      // It must fail in the checks, not because the program itself is broken.
      expect(bad.output, p.taskId).toMatch(/AssertionError|TypeError/);
      expect(bad.output, p.taskId).not.toMatch(/SyntaxError|IndentationError|NameError/);
    }
  });

  it('runs MBPP setup code after the solution, so it can use classes the solution defines', async () => {
    const p = (await load('mbpp-mini.jsonl')).problems.find((q) => q.entryPoint === 'count_leaves')!;
    expect(p.setupCode).toContain('Node(');
    const program = buildReferenceProgram(p)!.files['program.py']!;
    expect(program.indexOf('class Node')).toBeLessThan(program.indexOf('full = Node('));
    expect(program.indexOf('full = Node(')).toBeLessThan(program.indexOf('assert count_leaves'));
    expect((await run(buildReferenceProgram(p)!)).code).toBe(0);
  });

  it('builds the HumanEval program exactly as human-eval does', async () => {
    const p = (await load('humaneval-mini.jsonl')).problems[1]!;
    const program = buildProgram(p, '    return []\n', 'completion');
    expect(program.argv).toEqual(['python3', 'program.py']);
    expect(program.files['program.py']).toBe(`${p.starterCode}    return []\n\n${p.tests}\ncheck(${p.entryPoint})\n`);
  });

  it('runs model answers end to end: a completion, and a full function that leans on a helper from the prompt', async () => {
    const extractor = await createExtractor();
    const p = (await load('humaneval-mini.jsonl')).problems[0]!;
    const opts = { entryPoint: p.entryPoint, prompt: p.starterCode };

    const completion = extractor.extract(
      'Here is the body:\n```python\n    count = 0\n    inside = False\n    for ch in text:\n        if is_vowel(ch) and not inside:\n            count += 1\n        inside = is_vowel(ch)\n    return count\n```',
      opts,
    );
    expect(completion).toMatchObject({ outcome: 'ok', mode: 'completion' });
    expect((await run(buildProgram(p, completion.code!, completion.mode))).code).toBe(0);

    // The model rewrites only the entry point; is_vowel and VOWELS come from the prompt's preamble.
    const full = extractor.extract(
      'Sure:\n\n```python\ndef count_vowel_runs(text: str) -> int:\n    runs, prev = 0, False\n    for ch in text:\n        cur = is_vowel(ch)\n        runs += cur and not prev\n        prev = cur\n    return runs\n```\nIt scans once.',
      opts,
    );
    expect(full).toMatchObject({ outcome: 'ok', mode: 'full' });
    const program = buildProgram(p, full.code!, full.mode);
    expect(program.files['program.py']).toMatch(/^VOWELS = /);
    expect((await run(program)).code).toBe(0);
  });
});
