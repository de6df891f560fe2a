// The repair kind's loop in memory (test/support/memory-fleet.ts): the fake provider's repair answers
// (called directly, no HTTP) and a model of each bundled bug's suite as the sandbox — a named failing
// test passes once the module holds the bundled fix, any other test fails once a function of the
// module was broken. The real sandbox runs the same jobs in test/repair-run.test.ts.
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBehaviour } from '../../../../services/fake-provider/src/behaviour.js';
import { parseRepairBugs, repairAnswer } from '../../../../services/fake-provider/src/repair.js';
import { memoryFleet, type MemoryFleet } from '../../../../test/support/memory-fleet.js';
import { runKeys } from '../../runs/index.js';
import { KindRegistry, type ModelsCapability, type SandboxCapability, type SandboxJob } from '../../workflow/index.js';
import { builtinKinds } from '../index.js';
import { parseBugs } from './dataset.js';
import type { RepairResult } from './result.js';

const text = await readFile(new URL('../../../../datasets/repair-example.jsonl', import.meta.url), 'utf8');
const bugs = parseBugs(text).bugs;
const fixes = parseRepairBugs(text);
const chosen = ['algorithms-rle-multidigit', 'classes-stack-pop', 'parsing-kv-equals-in-value'];

const calls: { model: string; turn: number }[] = [];
const models: ModelsCapability = {
  call(req) {
    const conversation = req.messages.map((m) => m.content).join('\n');
    const bug = fixes.find((b) => conversation.includes(`Code (bug ${b.bugId}):`))!;
    calls.push({ model: req.model, turn: req.messages.filter((m) => m.role === 'assistant').length + 1 });
    const behaviour = parseBehaviour(req.model);
    const text = behaviour.form === 'prose' ? 'The loop bound is wrong.' : repairAnswer(behaviour, bug, conversation);
    return Promise.resolve({
      kind: 'answer',
      answer: { text, promptTokens: 100, completionTokens: 20, costUsd: 0.01, latencyMs: 5, cached: false },
    });
  },
};

const sandboxed: SandboxJob[] = [];
/** Each bug's suite, modelled: fixed modules pass the failing tests; a broken function fails the others. */
const sandbox: SandboxCapability = {
  describe: () => 'model of the bundled suites',
  run(job) {
    sandboxed.push(job);
    if (job.runner !== 'project') throw new Error('repair runs projects');
    const bug = bugs.find((b) => Object.keys(b.testFiles).every((t) => job.files[t] === b.testFiles[t]))!;
    const fix = fixes.find((f) => f.bugId === bug.bugId)!;
    const lines = (t: string) =>
      t
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    const fixed = Object.entries(fix.fix).every(([m, code]) => {
      const have = new Set(lines(job.files[m] ?? ''));
      return lines(code).every((l) => have.has(l));
    });
    // Functions the fake replaced with `raise RuntimeError("broken by the fake")`.
    const broken = Object.keys(bug.files).flatMap((m) =>
      [
        ...(job.files[m] ?? '').matchAll(
          /def (\w+)\(\*args, \*\*kwargs\):\n\s+raise RuntimeError\("broken by the fake"\)/g,
        ),
      ].map((x) => x[1]!),
    );
    const tests = Object.entries(bug.testFiles).flatMap(([file, src]) =>
      src.split(/^(?=def test_)/m).flatMap((body) => {
        const name = /^def (test_\w+)/.exec(body)?.[1];
        return name ? [{ name: `${file}::${name}`, body }] : [];
      }),
    );
    const outcomes = tests.map(({ name, body }) => {
      const failing = bug.failingTests?.includes(name) === true;
      const passes = (!failing || fixed) && !broken.some((f) => body.includes(`${f}(`));
      return {
        name,
        outcome: passes ? ('passed' as const) : ('failed' as const),
        message: passes ? undefined : 'AssertionError',
      };
    });
    const passed = outcomes.every((o) => o.outcome === 'passed');
    return Promise.resolve({
      verdict: passed ? 'passed' : 'failed',
      passed,
      tests: outcomes.map((o) => ({ name: o.name, outcome: o.outcome, ...(o.message ? { message: o.message } : {}) })),
      stdout: '',
      stderr: '',
      truncated: false,
      durationMs: 3,
      exitCode: passed ? 0 : 1,
      signal: null,
      sandbox: 'process',
      integrity: 'in-process',
    });
  },
};

let fleet: MemoryFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  calls.length = 0;
  sandboxed.length = 0;
});

const fakeModels = [
  'fake/repair:first',
  'fake/repair:after-feedback',
  'fake/repair:never',
  'fake/repair:breaks',
  'fake/prose',
];

async function start() {
  fleet = await memoryFleet(new KindRegistry(builtinKinds), { models, sandbox }, { knownModels: fakeModels });
  const { ref } = await fleet.store.putIfAbsent('datasets/repair.jsonl', text);
  return { fleet, dataset: ref };
}

const verdicts = (results: { result: Record<string, unknown> }[], model: string) =>
  results
    .map((r) => r.result as RepairResult)
    .filter((r) => r.model === model)
    .map((r) => [r.bugId, r.verdict, r.turns, r.fixedAtTurn ?? null])
    .sort();

describe('repair kind', () => {
  it('fixes on turn 1, after feedback on turn 2, never; regressions and answers without code are failed turns', async () => {
    const { fleet: f, dataset } = await start();
    const run = await f.run('repair', { dataset, models: fakeModels, bugIds: chosen, maxTurns: 2 });
    expect(run.results).toHaveLength(chosen.length * fakeModels.length);
    expect(verdicts(run.results, 'fake/repair:first')).toEqual(chosen.map((b) => [b, 'fixed', 1, 1]).sort());
    expect(verdicts(run.results, 'fake/repair:after-feedback')).toEqual(chosen.map((b) => [b, 'fixed', 2, 2]).sort());
    expect(verdicts(run.results, 'fake/repair:never')).toEqual(chosen.map((b) => [b, 'not_fixed', 2, null]).sort());
    expect(verdicts(run.results, 'fake/prose')).toEqual(chosen.map((b) => [b, 'not_fixed', 2, null]).sort());
    // `breaks` fixes the bug but breaks another function: not fixed, with the regressions named.
    const breaks = run.results.map((r) => r.result as RepairResult).filter((r) => r.model === 'fake/repair:breaks');
    const rle = breaks.find((r) => r.bugId === 'algorithms-rle-multidigit')!;
    expect(rle).toMatchObject({ verdict: 'not_fixed', turns: 2 });
    expect(rle.regressions).toEqual(['test_rle.py::test_encode']);
    const prose = run.results.map((r) => r.result as RepairResult).find((r) => r.model === 'fake/prose')!;
    expect(prose.history.map((h) => [h.outcome, h.reason])).toEqual([
      ['unusable', 'no_code'],
      ['unusable', 'no_code'],
    ]);
    // The second turn is the same conversation with the new error appended.
    expect(
      calls
        .filter((c) => c.model === 'fake/repair:after-feedback')
        .map((c) => c.turn)
        .sort(),
    ).toEqual([1, 1, 1, 2, 2, 2]);
    const second = JSON.parse(
      (
        await f.store.get(
          runKeys.job(run.results[0]!.runId, `fake/repair:after-feedback/classes-stack-pop/0`, 'turn-2.json'),
        )
      ).toString(),
    ) as { messages: { role: string; content: string }[]; diff: string };
    expect(second.messages.map((m) => m.role)).toEqual(['system', 'user', 'user', 'assistant', 'user', 'assistant']);
    expect(second.messages[4]!.content).toMatch(/^New error:\n/);
    expect(second.diff).toContain('+        return self._items.pop()');

    const summary = JSON.parse((await f.store.get(run.reports['summary.json']!)).toString()) as {
      models: {
        model: string;
        fixedAttempts: number;
        fixedByTurn: { turn: number; fixed: number }[];
        withRegressions: number;
      }[];
    };
    const by = Object.fromEntries(summary.models.map((m) => [m.model, m]));
    expect(by['fake/repair:after-feedback']?.fixedByTurn).toEqual([
      expect.objectContaining({ turn: 1, fixed: 0 }),
      expect.objectContaining({ turn: 2, fixed: 3 }),
    ]);
    expect(by['fake/repair:first']?.fixedAttempts).toBe(3);
    expect(by['fake/repair:breaks']?.withRegressions).toBeGreaterThan(0);
    // The run's page has the repair section, with every attempt as a drill-down record.
    const page = (await f.store.get(run.reports['report.html']!)).toString();
    expect(page).toContain('Fixed by turn (cumulative)');
    expect(page).toContain('attempt:fake/repair:after-feedback/classes-stack-pop/0');
  });

  it('--patches: the bundled fixes fix every bug, the buggy code echoed back fixes none', async () => {
    const { fleet: f, dataset } = await start();
    const lines = fixes.map((b) => ({
      bug_id: b.bugId,
      completion: Object.values(b.fix)
        .map((c) => `\`\`\`python\n${c}\`\`\``)
        .join('\n'),
    }));
    const echoed = fixes.map((b) => ({
      bug_id: b.bugId,
      completion: repairAnswer(parseBehaviour('fake/repair:never'), b, ''),
    }));
    const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    const { ref: good } = await f.store.putIfAbsent('patches/good.jsonl', jsonl(lines));
    const { ref: bad } = await f.store.putIfAbsent(
      'patches/bad.jsonl',
      jsonl([...echoed, { bug_id: 'math-gcd-loop', completion: '```python\ndef lcm(a, b):\n    return a * b\n```' }]),
    );
    const fixedRun = await f.run('repair', { dataset, patches: good }, 'patches-good');
    expect(fixedRun.results.every((r) => (r.result as RepairResult).fixed)).toBe(true);
    expect(calls).toHaveLength(0);
    const out = (await f.store.get(fixedRun.reports['patches_results.jsonl']!)).toString().trim().split('\n');
    const expected: unknown[] = lines.map((l) => ({ bug_id: l.bug_id, fixed: true, result: 'fixed' }));
    expect(out.map((l) => JSON.parse(l) as { bug_id: string; fixed: boolean })).toMatchObject(expected);
    const badRun = await f.run('repair', { dataset, patches: bad }, 'patches-bad');
    expect(badRun.results.filter((r) => (r.result as RepairResult).fixed)).toHaveLength(0);
    const lcm = badRun.results.map((r) => r.result as RepairResult).find((r) => r.patchLine === echoed.length)!;
    expect(lcm).toMatchObject({ verdict: 'not_fixed', reason: 'unknown_function' });
    expect(lcm.message).toContain('lcm');
  });
});
