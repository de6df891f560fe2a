// The synth pipeline in memory (test/support/memory-fleet.ts): the fake provider's synth answers
// (called directly), the real mutation engine, and a model of each template's suite as the sandbox
// (the templates' labelled bugs fail the tests they name; a mutant fails the tests that call the
// function it is in; the Monte Carlo suite changes outcomes on every run). The real sandbox runs the
// same jobs in test/synth-run.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { parseBehaviour } from '../../../../services/fake-provider/src/behaviour.js';
import { synthAnswer } from '../../../../services/fake-provider/src/synth.js';
import {
  applyBug,
  flakyTemplate,
  synthTemplates,
  type SynthTemplate,
} from '../../../../services/fake-provider/src/synth-templates.js';
import { createMutationEngine } from '../../../../services/mutator/src/engine/index.js';
import { memoryFleet, type MemoryFleet } from '../../../../test/support/memory-fleet.js';
import { testLogger } from '../../../../test/support/rabbit.js';
import { runKeys } from '../../runs/index.js';
import { readJsonl } from '../../storage/index.js';
import {
  KindRegistry,
  type ModelsCapability,
  type SandboxCapability,
  type SandboxJob,
  type SandboxResult,
  type SharedSet,
} from '../../workflow/index.js';
import { changedLines, enclosingFunction } from './conversation.js';
import { synthKind } from './index.js';
import type { GenerateResult, ValidateResult } from './result.js';
import { taskRecordSchema, type TaskRecord } from './task.js';

const fakeIds: Record<string, string> = { good: 'fake/always-right', mixed: 'fake/right-fraction:0.6' };
const models: ModelsCapability = {
  call(req) {
    const text = synthAnswer(parseBehaviour(fakeIds[req.model]!), req.messages) ?? 'not a synth prompt';
    return Promise.resolve({
      kind: 'answer',
      answer: { text, promptTokens: 1000, completionTokens: 500, costUsd: 0.01, latencyMs: 1, cached: false },
    });
  },
};

type Test = { id: string; body: string };

/** The suite's tests as the project runner names them (pytest node ids, unittest ids). */
function testsOf(code: string, path: string, framework: 'pytest' | 'unittest'): Test[] {
  const out: Test[] = [];
  const lines = code.split('\n');
  let cls = '';
  for (const [i, line] of lines.entries()) {
    const c = /^class (\w+)/.exec(line);
    if (c) cls = c[1]!;
    const d = /^( *)def (test_\w+)/.exec(line);
    if (!d) continue;
    let end = i + 1;
    while (end < lines.length && (lines[end]!.trim() === '' || lines[end]!.startsWith(`${d[1]!} `))) end++;
    const id =
      framework === 'unittest'
        ? `${path.replace(/\.py$/, '')}.${cls}.${d[2]!}`
        : d[1]
          ? `${path}::${cls}::${d[2]!}`
          : `${path}::${d[2]!}`;
    out.push({ id, body: lines.slice(i, end).join('\n') });
  }
  return out;
}

let flakyRuns = 0;
const sandboxed: SandboxJob[] = [];

/** What a template's suite does with a version of its module. */
function suiteOutcome(t: SynthTemplate, module: string, testCode: string, testPath: string): SandboxResult['tests'] {
  const tests = testsOf(testCode, testPath, t.framework);
  const result = (failing: (x: Test) => boolean) =>
    tests.map((x) => ({ name: x.id, outcome: failing(x) ? ('failed' as const) : ('passed' as const) }));
  const bug = t.bugs.find((b) => applyBug(t, b) === module);
  if (bug?.effect === 'breaks') return [{ name: testPath, outcome: 'error', message: 'ImportError' }];
  if (testCode.includes('test_module_is_documented')) return result(() => false);
  if (t === flakyTemplate) {
    flakyRuns += 1;
    return result((x) => (tests.indexOf(x) + flakyRuns) % 2 === 0);
  }
  if (module === t.module) return result((x) => x.body.includes(t.wrongExpectation.to));
  if (bug) return result((x) => bug.effect === 'valid' && (bug.fails ?? []).some((f) => x.id.endsWith(f)));
  // A mutant: the tests that call the function it is in.
  const names = changedLines(module, t.module).flatMap((l) => enclosingFunction(t.module, l)?.name ?? []);
  return result((x) => names.some((n) => x.body.includes(`${n}(`)));
}

const sandbox: SandboxCapability = {
  describe: () => "model of the fake provider's synth suites",
  run(job) {
    sandboxed.push(job);
    if (job.runner !== 'project') throw new Error('synth runs projects');
    const testPath = job.testFiles?.[0] ?? '';
    const modulePath = Object.keys(job.files).find((p) => p !== testPath) ?? '';
    const t = [...synthTemplates, flakyTemplate].find((x) => `${x.moduleName}.py` === modulePath)!;
    const tests = suiteOutcome(t, job.files[modulePath]!, job.files[testPath]!, testPath);
    const passed = tests.every((x) => x.outcome === 'passed');
    return Promise.resolve({
      verdict: passed ? 'passed' : tests.some((x) => x.outcome === 'error') ? 'error' : 'failed',
      passed,
      tests,
      stdout: passed
        ? ''
        : `=================================== FAILURES ===================================\n${tests
            .filter((x) => x.outcome !== 'passed')
            .map((x) => `FAILED ${x.name}`)
            .join('\n')}\n`,
      stderr: '',
      truncated: false,
      durationMs: 300,
      exitCode: passed ? 0 : 1,
      signal: null,
      sandbox: 'process',
      integrity: 'in-process',
    });
  },
};

/** The Redis set as the producer hands it over, in memory. */
function memorySet(): SharedSet & { items: Set<string> } {
  const items = new Set<string>();
  return {
    items,
    members: () => Promise.resolve(new Set(items)),
    add: (ms) => {
      const before = items.size;
      for (const m of ms) items.add(m);
      return Promise.resolve(items.size - before);
    },
  };
}

// One scenario per mixed variant (see services/fake-provider/src/synth.ts), and three more.
const designed = [
  ['Physics', 'Optics and waves', 'Thin lens imaging'], // valid (projectile)
  ['Chemistry', 'Chemical kinetics', 'Arrhenius rate constants'], // clean-fails (orbits)
  ['Chemistry', 'Stoichiometry', 'Limiting reagent yield'], // flaky (stoichiometry)
  ['Engineering', 'Structural engineering', 'Stress and strain in axial members'], // weak (weighted-stats)
  ['Statistics and data science', 'Inference', 'Chi-square goodness of fit'], // malformed (projectile)
  ['Physics', 'Optics and waves', 'Standing waves on strings'], // json (stoichiometry)
];
const extra = [
  ['Physics', 'Thermodynamics', 'Entropy change of mixing'],
  ['Physics', 'Thermodynamics', 'Heat engine efficiency'],
  ['Biology and medicine', 'Genomics', 'GC content of DNA sequences'],
];
const catalogOf = (rows: string[][]) =>
  JSON.stringify(rows.map(([domain, topic, subtopic]) => ({ domain, topic, subtopic })));

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  sandboxed.length = 0;
});

async function start() {
  fleet = await memoryFleet(
    new KindRegistry([synthKind]),
    { models, sandbox, mutation: await createMutationEngine() },
    {
      knownModels: Object.keys(fakeIds),
    },
  );
  const upload = async (name: string, text: string) => (await fleet!.store.putIfAbsent(name, text)).ref;
  return { fleet, upload };
}

const generated = (results: { result: Record<string, unknown> }[]) => results.map((r) => r.result as GenerateResult);
function reasons(results: GenerateResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) for (const x of r.rejections) out[x.reason] = (out[x.reason] ?? 0) + 1;
  return out;
}
async function tasksOf(f: MemoryFleet, runId: string): Promise<TaskRecord[]> {
  const out: TaskRecord[] = [];
  for await (const row of readJsonl(f.store, runKeys.report(runId, 'tasks.jsonl'), taskRecordSchema)) out.push(row);
  return out;
}

describe('synth in memory', () => {
  it('the mixed model meets every rejection path; exact counts per reason, with and without retries', async () => {
    const { fleet: f, upload } = await start();
    const catalog = await upload('catalogs/designed.json', catalogOf(designed));
    const spec = { catalog, models: ['mixed'], count: 6, strategies: ['llm'], allowRepeat: true };

    const once = generated((await f.run('synth', { ...spec, retries: 0 }, 'mixed-0')).results);
    expect(Object.fromEntries(once.map((r) => [r.scenario.subtopic, r.status]))).toEqual({
      'Thin lens imaging': 'accepted',
      'Arrhenius rate constants': 'rejected',
      'Limiting reagent yield': 'rejected',
      'Stress and strain in axial members': 'rejected',
      'Chi-square goodness of fit': 'rejected',
      'Standing waves on strings': 'accepted',
    });
    expect(reasons(once)).toEqual({
      clean_fails: 1,
      flaky_suite: 1,
      malformed_answer: 1,
      no_valid_bug: 1,
      // the weak suite's one bug, and each accepted generation's bug no test notices
      bug_passes: 3,
      no_pass_to_pass: 2,
    });

    sandboxed.length = 0;
    const run = await f.run('synth', { ...spec, retries: 1 }, 'mixed-1');
    const retried = generated(run.results);
    expect(retried.map((r) => r.status)).toEqual(Array(6).fill('accepted'));
    expect(Object.fromEntries(retried.map((r) => [r.scenario.subtopic, r.generations]))).toEqual({
      'Thin lens imaging': 1,
      'Arrhenius rate constants': 2,
      'Limiting reagent yield': 2,
      'Stress and strain in axial members': 2,
      'Chi-square goodness of fit': 1,
      'Standing waves on strings': 1,
    });
    expect(reasons(retried)).toEqual({
      clean_fails: 1,
      flaky_suite: 1,
      malformed_answer: 1,
      no_valid_bug: 1,
      bug_passes: 7,
      no_pass_to_pass: 6,
    });
    const summary = JSON.parse((await f.store.get(runKeys.report('mixed-1', 'summary.json'))).toString()) as {
      tasks: number;
      byStrategy: { strategy: string; proposed: number; valid: number }[];
      costUsd: number;
      costPerTaskUsd: number;
    };
    expect(summary.byStrategy).toEqual([{ strategy: 'llm', proposed: 19, valid: 6, yield: 0.315789 }]);
    // 6 first answers, a parse retry, 3 new generations: 10 calls at $0.01.
    expect(summary).toMatchObject({ tasks: 6, costUsd: 0.1, costPerTaskUsd: 0.016667 });
    // Three clean runs per generation that passes (6 + 3 after a rejection), two when the suite fails or flips.
    expect(sandboxed.filter((j) => /\/clean-\d$/.test(j.jobId))).toHaveLength(6 * 3 + 3 + 2 + 2);

    const tasks = await tasksOf(f, 'mixed-1');
    expect(tasks).toHaveLength(6);
    const lens = tasks.find((t) => t.scenario.subtopic === 'Thin lens imaging')!;
    expect(lens).toMatchObject({
      module_path: 'projectile.py',
      test_path: 'test_projectile.py',
      strategy: 'llm',
      operator: null,
      FAIL_TO_PASS: ['test_projectile.py::test_max_height_adds_the_launch_height'],
      file_edit: false,
    });
    expect(lens.PASS_TO_PASS).toHaveLength(5);
    expect(lens.patch).toContain('+    return height + vy * vy / (2 * G)');
    expect(lens.conversation.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(lens.conversation[0]!.content).toContain(lens.buggy_code.trimEnd());
    expect(lens.conversation[1]!.content).toContain('`max_height`');
    const orbit = tasks.find((t) => t.module_path === 'orbits.py')!;
    expect(orbit.FAIL_TO_PASS).toEqual([
      'test_orbits.OrbitTests.test_escape_is_sqrt_two_times_circular',
      'test_orbits.OrbitTests.test_earth_escape_velocity',
    ]);
    const page = (await f.store.get(run.reports['report.html']!)).toString();
    expect(page).toContain('Valid yield per strategy');
    expect(page).not.toContain('sections of this page failed');
    const instances = run.reports['instances.jsonl'];
    expect(instances).toBe(runKeys.report('mixed-1', 'instances.jsonl'));
  });

  it('ast and numeric bugs from the mutator: at most one task per strategy, yield counted per strategy', async () => {
    const { fleet: f, upload } = await start();
    const catalog = await upload('catalogs/extra.json', catalogOf(extra));
    const run = await f.run(
      'synth',
      { catalog, models: ['good'], count: 3, maxCandidates: 3, fileEdit: true, suppressBuggyCode: true },
      'good',
    );
    const results = generated(run.results);
    expect(results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
    for (const r of results) {
      const strategies = r.tasks.map((t) => t.strategy);
      expect(new Set(strategies).size).toBe(strategies.length);
      expect(strategies).toContain('llm');
    }
    const tasks = await tasksOf(f, 'good');
    const mutants = tasks.filter((t) => t.strategy !== 'llm');
    expect(mutants.length).toBeGreaterThan(0);
    for (const t of mutants) {
      expect(t.operator).toEqual(expect.any(String));
      if (t.strategy === 'numeric') expect(t.operator).toBe('number');
      expect(t.FAIL_TO_PASS.length).toBeGreaterThan(0);
      expect(t.PASS_TO_PASS.length).toBeGreaterThan(0);
      // file-edit, code suppressed: the user points at the file instead of pasting it
      expect(t.conversation[0]!.content).not.toContain(t.buggy_code.trimEnd());
      expect(t.conversation[0]!.content).toContain(`\`${t.module_path}\``);
    }
    // In this model every mutant of a tested function fails the tests that call it: the first
    // candidate of each strategy is valid (test/synth-run.test.ts meets real survivors).
    expect(tasks.map((t) => [t.module_path, t.strategy, t.operator])).toEqual([
      ['orbits.py', 'llm', null],
      ['orbits.py', 'ast', 'statement'],
      ['orbits.py', 'numeric', 'number'],
      ['stoichiometry.py', 'llm', null],
      ['stoichiometry.py', 'ast', 'index'],
      ['stoichiometry.py', 'numeric', 'number'],
      ['weighted_stats.py', 'llm', null],
      ['weighted_stats.py', 'ast', 'statement'],
      ['weighted_stats.py', 'numeric', 'number'],
    ]);
    const summary = JSON.parse((await f.store.get(runKeys.report('good', 'summary.json'))).toString()) as {
      byStrategy: { strategy: string; proposed: number; valid: number }[];
    };
    expect(summary.byStrategy).toEqual([
      { strategy: 'llm', proposed: 3, valid: 3, yield: 1 },
      { strategy: 'ast', proposed: 3, valid: 3, yield: 1 },
      // Mutated atomic masses are module-level, no function's: in this model nothing fails.
      { strategy: 'numeric', proposed: 5, valid: 3, yield: 0.6 },
    ]);
    expect(results.flatMap((r) => r.rejections.map((x) => [r.scenario.subtopic, x.reason, x.strategy]))).toEqual([
      ['GC content of DNA sequences', 'bug_passes', 'numeric'],
      ['GC content of DNA sequences', 'bug_passes', 'numeric'],
    ]);
  });

  it('scenarios stay unique across runs, through the store alone when the Redis set is lost', async () => {
    const { fleet: f, upload } = await start();
    const catalog = await upload('catalogs/all.json', catalogOf([...designed, ...extra]));
    const kind = new KindRegistry([synthKind]).kind('synth');
    const set = memorySet();
    const expand = (runId: string, spec: Record<string, unknown>, used: SharedSet | undefined = set) =>
      kind.expand({
        runId,
        spec: { catalog, models: ['good', 'mixed'], ...spec },
        store: f.store,
        logger: testLogger(),
        knownModels: () => new Set(['good', 'mixed']),
        ...(used ? { sharedSet: () => used } : {}),
      });
    const ids = (e: Awaited<ReturnType<typeof expand>>) =>
      e.jobs.map((j) => (j.payload as { scenario: { id: string } }).scenario.id);
    const first = await expand('r1', { count: 2 });
    expect(first.jobs.map((j) => j.jobId)).toEqual(['good/0', 'mixed/0', 'good/1', 'mixed/1']);
    expect(new Set(ids(first)).size).toBe(4);
    expect(set.items).toEqual(new Set(ids(first)));
    // A redelivered request gets the same jobs.
    expect(ids(await expand('r1', { count: 2 }))).toEqual(ids(first));
    // Redis emptied: the store's claims still keep the next run off the first one's scenarios.
    const second = await expand('r2', { count: 2 }, memorySet());
    expect(ids(second).filter((id) => ids(first).includes(id))).toEqual([]);
    expect(new Set(ids(second)).size).toBe(4);
    // One scenario left: a third run gets it, the rest of its slots stay empty.
    const third = await expand('r3', { count: 2 });
    expect(third.jobs).toHaveLength(1);
    expect(third.meta).toMatchObject({ short: 3 });
    await expect(expand('r4', { count: 1 })).rejects.toThrow(/every scenario .* has been used/);
    const repeat = await expand('r5', { count: 1, allowRepeat: true });
    expect(repeat.jobs).toHaveLength(2);
    expect(repeat.meta).toMatchObject({ repeated: 2, short: 0 });
  });

  it('validate: the tasks of a run pass; a tampered one fails with what differs', async () => {
    const { fleet: f, upload } = await start();
    const catalog = await upload('catalogs/extra.json', catalogOf(extra.slice(0, 2)));
    await f.run('synth', { catalog, models: ['good'], count: 2, strategies: ['llm'] }, 'made');
    const tasks = await tasksOf(f, 'made');
    expect(tasks).toHaveLength(2);
    const tampered = { ...tasks[1]!, buggy_code: tasks[1]!.clean_code };
    const file = await upload('tasks.jsonl', [tasks[0], tampered].map((t) => JSON.stringify(t)).join('\n') + '\n');
    const run = await f.run('synth', { mode: 'validate', tasks: file }, 'check');
    const rows = run.results.map((r) => r.result as ValidateResult).sort((a, b) => a.line - b.line);
    expect(rows.map((r) => [r.instanceId, r.ok])).toEqual([
      [tasks[0]!.instance_id, true],
      [tasks[1]!.instance_id, false],
    ]);
    expect(rows[1]!.problems).toEqual([
      `the buggy module fails [] instead of FAIL_TO_PASS [${tasks[1]!.FAIL_TO_PASS.join(', ')}]`,
    ]);
    const page = (await f.store.get(run.reports['report.html']!)).toString();
    expect(page).toContain('Saved tasks re-run');
    expect(page).not.toContain('sections of this page failed');
    expect(JSON.parse((await f.store.get(run.reports['summary.json']!)).toString())).toMatchObject({
      tasks: 2,
      valid: 1,
      invalid: 1,
    });
  });
});
