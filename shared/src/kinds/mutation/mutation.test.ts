import { describe, expect, it } from 'vitest';
import type { Problem } from '../../datasets/index.js';
import type { SandboxResult } from '../../workflow/index.js';
import type { BaselineDoc, MutantsDoc, StoredMutant } from './artifacts.js';
import { baselineDoc, parseRanges } from './baseline.js';
import { mutantOutcome } from './batch.js';
import type { ProjectReport } from './collect.js';
import { mutantDiff } from './diff.js';
import { pytestFileFor } from './from-run.js';
import { mutationSettingsSchema } from './messages.js';
import { batchTimeout, buildPlan, pickEvenly } from './planning.js';
import { parseProjects } from './project.js';
import { globRegExp, readProjectDir } from './project-dir.js';
import { mutationDeadLettered } from './result.js';
import { strykerProblems, strykerReport } from './stryker.js';

const mutant = (id: string, line: number): StoredMutant => ({
  id,
  file: 'm.py',
  operator: 'number',
  mutatorName: 'NumberLiteral',
  original: '1',
  replacement: '2',
  location: { start: { line, column: 5 }, end: { line, column: 6 } },
  lines: [line, line],
  text: 'x = 2',
  cover: [line, line],
  inFunction: true,
});

const sandboxResult = (tests: SandboxResult['tests'], verdict: SandboxResult['verdict'] = 'passed'): SandboxResult => ({
  verdict,
  passed: verdict === 'passed',
  tests,
  stdout: '',
  stderr: '',
  truncated: false,
  durationMs: 900,
  exitCode: 0,
  signal: null,
  sandbox: 'process',
  integrity: 'in-process',
});

describe('baseline', () => {
  it('reads coverage ranges, and a missing one as reaching everything', () => {
    expect(parseRanges('c:0-2,5')).toEqual([0, 1, 2, 5]);
    expect(parseRanges('c:')).toEqual([]);
    expect(parseRanges('boom')).toBeUndefined();
    const doc = baselineDoc(
      sandboxResult([
        { name: '@collect', outcome: 'passed', durationMs: 300, message: 'c:3' },
        { name: 't.py::a', outcome: 'passed', durationMs: 2, message: 'c:0' },
        { name: 't.py::b', outcome: 'passed', durationMs: 4 },
      ]),
      4,
    );
    expect(doc).toMatchObject({ passed: true, setupMs: 300, collect: [3], reached: [[0], [0, 1, 2, 3]] });
    expect(doc.tests).toEqual([
      { name: 't.py::a', outcome: 'passed', ms: 2 },
      { name: 't.py::b', outcome: 'passed', ms: 4 },
    ]);
  });
});

describe('planning', () => {
  const mutants: MutantsDoc = {
    project: 'p',
    mutants: [mutant('1', 1), mutant('2', 2), mutant('3', 3), mutant('4', 4)],
    skipped: {},
    errors: [],
    generated: 4,
  };
  const baseline: BaselineDoc = {
    passed: true,
    tests: ['a', 'b', 'c'].map((name, i) => ({ name, outcome: 'passed', ms: i + 1 })),
    setupMs: 200,
    durationMs: 300,
    collect: [0],
    reached: [[1], [], [1, 2]],
  };
  const settings = mutationSettingsSchema.parse({ batchMutants: 2, timeoutFloorMs: 1000 });

  it('runs reaching tests only, imports afresh what runs at import, leaves unreached mutants out', () => {
    const plan = buildPlan(mutants, baseline, settings, ['t.py']);
    expect(plan.noCoverage).toEqual(['4']);
    expect(plan.covered).toEqual({ '1': [0, 1, 2], '2': [0, 2], '3': [2] });
    expect(plan.batches.map((b) => b.mutants.map((m) => [m.id, m.run, m.first, m.fresh]))).toEqual([
      [
        ['1', [0, 1, 2], 0, true],
        ['2', [0, 2], 0, false],
      ],
      [['3', [2], 2, false]],
    ]);
    // Fresh: its whole tail with the import; others: covering tests, then every test from the first on.
    expect(plan.batches[1]!.timeoutMs).toBe(batchTimeout(plan, plan.batches[1]!.mutants));
    expect(batchTimeout(plan, [])).toBe(10 * 200 + 1000 + 30_000);
    expect(buildPlan(mutants, baseline, settings, ['t.py'])).toEqual(plan);
  });

  it('splits work into balanced batches, enough for several sandboxes', () => {
    const many: MutantsDoc = { ...mutants, mutants: Array.from({ length: 8 }, (_, i) => mutant(String(i + 1), i + 1)) };
    const slow: BaselineDoc = {
      ...baseline,
      tests: [{ name: 'a', outcome: 'passed', ms: 1000 }],
      collect: [],
      reached: [[0, 1, 2, 3, 4, 5, 6, 7]],
    };
    const auto = mutationSettingsSchema.parse({ minBatches: 4 });
    expect(buildPlan(many, slow, auto, ['t.py']).batches.map((b) => b.mutants.map((m) => m.id))).toEqual([
      ['1', '2'],
      ['3', '4'],
      ['5', '6'],
      ['7', '8'],
    ]);
    // Little work: one batch (each batch pays a collection).
    const quick: BaselineDoc = { ...slow, tests: [{ name: 'a', outcome: 'passed', ms: 1 }] };
    expect(buildPlan(many, quick, auto, ['t.py']).batches).toHaveLength(1);
  });

  it('runs only the reaching tests in the covering-only scope', () => {
    const plan = buildPlan(mutants, baseline, mutationSettingsSchema.parse({ testScope: 'covering' }), ['t.py']);
    expect(plan.batches.flatMap((b) => b.mutants.map((m) => [m.id, m.run, m.first]))).toEqual([
      ['1', [0, 1, 2], 0],
      ['2', [0, 2], -1],
      ['3', [2], -1],
    ]);
  });

  it('picks evenly and always the same', () => {
    expect(pickEvenly([1, 2, 3, 4, 5, 6], 3)).toEqual([1, 3, 5]);
    expect(pickEvenly([1, 2], 5)).toEqual([1, 2]);
  });
});

describe('sandbox records', () => {
  it('reads a mutant’s outcome and ignores anything else', () => {
    const killed = { s: 'killed', by: ['t.py::a'], n: 2 };
    expect(mutantOutcome({ name: '7', outcome: 'passed', durationMs: 12, message: JSON.stringify(killed) })).toEqual({
      id: '7',
      status: 'killed',
      killedBy: ['t.py::a'],
      testsRun: 2,
      durationMs: 12,
    });
    expect(mutantOutcome({ name: '8', outcome: 'passed', message: '{"s":"error","why":"x"}' })).toMatchObject({
      status: 'infra_error',
    });
    expect(mutantOutcome({ name: '9', outcome: 'passed', message: 'not json' })).toBeUndefined();
    expect(mutantOutcome({ name: '9', outcome: 'passed', message: '{"s":"passed"}' })).toBeUndefined();
  });

  it('reports a dead-lettered batch’s mutants as infrastructure errors', () => {
    const r = mutationDeadLettered({
      jobId: 'p/b1',
      type: 'mutation.batch',
      stage: 'evaluate',
      payload: { project: 'p', batch: 1, ids: ['3', '4'] },
      code: 'delivery_limit',
      message: 'crashed',
    });
    expect(r.mutants.map((m) => [m.id, m.status])).toEqual([
      ['3', 'infra_error'],
      ['4', 'infra_error'],
    ]);
  });
});

describe('reports', () => {
  it('writes Stryker reports the schema package accepts', () => {
    const project: ProjectReport = {
      id: 'p',
      status: 'tested',
      project: {
        id: 'p',
        files: { 'm.py': 'x = 1\n', 't.py': 'def test_a(): pass\n' },
        source: ['m.py'],
        tests: ['t.py'],
      },
      plan: {
        testFiles: ['t.py'],
        tests: ['t.py::test_a'],
        testMs: [1],
        setupMs: 1,
        factor: 10,
        floorMs: 1000,
        covered: { '1': [0] },
        noCoverage: [],
        batches: [],
      },
      rows: [
        { mutant: mutant('1', 1), outcome: { id: '1', status: 'killed', killedBy: ['t.py::test_a'], testsRun: 1 } },
        { mutant: mutant('2', 1), outcome: { id: '2', status: 'incompetent', reason: 'SyntaxError: bad' } },
        { mutant: mutant('3', 1), outcome: { id: '3', status: 'incompetent', reason: 'ZeroDivisionError' } },
        { mutant: mutant('4', 1), outcome: { id: '4', status: 'no_coverage' } },
      ],
    };
    const report = strykerReport([project]);
    expect(strykerProblems(report)).toEqual([]);
    expect(report.files['m.py']!.mutants.map((m) => m.status)).toEqual([
      'Killed',
      'CompileError',
      'RuntimeError',
      'NoCoverage',
    ]);
    expect(report.files['m.py']!.mutants[0]).toMatchObject({ coveredBy: ['t.py::test_a'], killedBy: ['t.py::test_a'] });
    expect(report.testFiles?.['t.py']?.tests).toEqual([{ id: 't.py::test_a', name: 'test_a' }]);
    expect(strykerProblems({ ...report, schemaVersion: 'three' })).not.toEqual([]);
  });

  it('shows a mutant as a unified diff', () => {
    expect(mutantDiff('a\nb\nx = 1\nc\n', { file: 'm.py', lines: [3, 3], text: 'x = 2' }, 1)).toBe(
      ['--- a/m.py', '+++ b/m.py', '@@ -2,3 +2,3 @@', ' b', '-x = 1', '+x = 2', ' c'].join('\n'),
    );
  });
});

describe('projects', () => {
  it('matches globs', () => {
    expect(globRegExp('**/test_*.py').test('test_a.py')).toBe(true);
    expect(globRegExp('**/test_*.py').test('tests/deep/test_a.py')).toBe(true);
    expect(globRegExp('src/*.py').test('src/a/b.py')).toBe(false);
    expect(globRegExp('{a,b}.py').test('b.py')).toBe(true);
  });

  it('reads a directory into sources and tests', () => {
    const { project } = readProjectDir('datasets/mutation-example');
    expect(project.id).toBe('mutation-example');
    expect(project.source).toEqual([
      'shop/__init__.py',
      'shop/config.py',
      'shop/inventory.py',
      'shop/pricing.py',
      'shop/text.py',
    ]);
    expect(project.tests).toEqual(['tests/test_inventory.py', 'tests/test_pricing.py', 'tests/test_text.py']);
    expect(readProjectDir('datasets/mutation-example', { source: ['shop/text.py'] }).project.source).toEqual([
      'shop/text.py',
    ]);
  });

  it('checks a bundle line by line', () => {
    const ok = { id: 'a', files: { 'm.py': '', 't.py': '' }, source: ['m.py'], tests: ['t.py'] };
    expect(parseProjects(JSON.stringify(ok))).toHaveLength(1);
    expect(() => parseProjects(JSON.stringify({ ...ok, source: ['x.py'] }))).toThrow(/line 1 \(a\).*not in files/);
    expect(() => parseProjects(`${JSON.stringify(ok)}\n${JSON.stringify(ok)}`)).toThrow(/used twice/);
    expect(() => parseProjects(JSON.stringify({ ...ok, id: 'a/b' }))).toThrow(/line 1/);
  });

  it('turns a problem’s tests into a pytest file over solution.py', () => {
    const base = { taskId: 't', prompt: 'p', category: 'c', source: 'native' as const, entryPoint: 'add' };
    const humaneval: Problem = {
      ...base,
      testFormat: 'humaneval',
      tests: 'def check(candidate):\n    assert candidate(1, 2) == 3\n',
    };
    expect(pytestFileFor(humaneval)).toContain('def test_check():\n    check(add)\n');
    const mbpp: Problem = { ...base, testFormat: 'mbpp', tests: 'assert add(1, 2) == 3\nassert add(0, 0) == 0\n' };
    expect(pytestFileFor(mbpp)).toContain('def test_assert_1():\n    assert add(0, 0) == 0\n');
  });
});
