// The repair workload through the real fleet and the sandbox's project runner: fake models that fix
// at once, only after the new error, never, or while breaking another function; given patches; and
// a resubmitted run that skips what is done.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseBehaviour } from '../services/fake-provider/src/behaviour.js';
import { parseRepairBugs, repairAnswer } from '../services/fake-provider/src/repair.js';
import { runKeys } from '../shared/src/runs/index.js';
import { cli } from './support/cli.js';
import { startSolveFleet, type SolveFleet } from './support/solve-fleet.js';

const dataset = 'datasets/repair-example.jsonl';
let fleet: SolveFleet | undefined;
afterEach(async () => {
  await fleet?.stop();
  fleet = undefined;
});

type ModelSummary = {
  model: string;
  scoredAttempts: number;
  fixedAttempts: number;
  fixedByTurn: { turn: number; fixed: number }[];
  withRegressions: number;
};
type Row = {
  model: string;
  bugId: string;
  verdict: string;
  turns: number;
  regressions: string[];
  history: { outcome: string; reason?: string }[];
};

async function start(label: string): Promise<SolveFleet> {
  fleet = await startSolveFleet(label, {
    repairDataset: dataset,
    models: {
      first: 'fake/repair:first',
      feedback: 'fake/repair:after-feedback',
      never: 'fake/repair:never',
      breaks: 'fake/repair:breaks',
    },
  });
  return fleet;
}

async function rows(f: SolveFleet, runId: string): Promise<Row[]> {
  const text = (await f.fleetEnv.store.get(runKeys.report(runId, 'results.jsonl'))).toString('utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Row);
}

describe('repair run', () => {
  it(
    'fixed by turn per fake model, regressions named, answers without code are failed turns',
    { timeout: 300_000 },
    async () => {
      const f = await start('repair');
      const bugs = ['algorithms-rle-multidigit', 'classes-stack-pop', 'parsing-kv-equals-in-value', 'io-units-header'];
      const r = await cli(
        f.env,
        'submit',
        'repair',
        '--dataset',
        dataset,
        '--bugs',
        bugs.join(','),
        '--models',
        'first,feedback,never,prose',
        '--max-turns',
        '2',
        '--run-id',
        'repair-models',
        '--wait',
        '--json',
      );
      expect(r.code, r.err).toBe(0);
      const summary = JSON.parse(r.out) as { models: ModelSummary[] };
      const by = Object.fromEntries(summary.models.map((m) => [m.model, m]));
      expect(by['first']).toMatchObject({ scoredAttempts: 4, fixedAttempts: 4 });
      expect(by['first']?.fixedByTurn.map((t) => t.fixed)).toEqual([4, 4]);
      expect(by['feedback']?.fixedByTurn.map((t) => t.fixed)).toEqual([0, 4]);
      expect(by['never']).toMatchObject({ fixedAttempts: 0 });
      expect(by['prose']).toMatchObject({ fixedAttempts: 0 });
      const all = await rows(f, 'repair-models');
      expect(all).toHaveLength(16);
      expect(all.filter((x) => x.model === 'never').every((x) => x.verdict === 'not_fixed' && x.turns === 2)).toBe(
        true,
      );
      expect(all.find((x) => x.model === 'prose')?.history.map((h) => h.reason)).toEqual(['no_code', 'no_code']);

      const broke = await cli(
        f.env,
        'submit',
        'repair',
        '--dataset',
        dataset,
        '--bugs',
        'algorithms-rle-multidigit',
        '--models',
        'breaks',
        '--max-turns',
        '1',
        '--run-id',
        'repair-breaks',
        '--wait',
        '--json',
      );
      expect(broke.code, broke.err).toBe(0);
      const [row] = await rows(f, 'repair-breaks');
      expect(row).toMatchObject({ verdict: 'not_fixed', regressions: ['test_rle.py::test_encode'] });

      // Every turn is stored: the conversation, the diff, the test output.
      const turn = JSON.parse(
        (
          await f.fleetEnv.store.get(runKeys.job('repair-models', 'feedback/classes-stack-pop/0', 'turn-2.json'))
        ).toString(),
      ) as { diff: string; messages: { role: string; content: string }[] };
      expect(turn.diff).toContain('+        return self._items.pop()');
      expect(turn.messages.at(-2)?.content).toMatch(/^New error:\n[\s\S]*test_lifo/);
    },
  );

  it(
    '--patches: every bundled fix fixes its bug in the sandbox; the buggy code echoed back fixes none',
    { timeout: 300_000 },
    async () => {
      const f = await start('repair-patches');
      const text = await readFile(dataset, 'utf8');
      const bugs = parseRepairBugs(text);
      const file = (name: string) => path.join(f.fleetEnv.artifactDir, name);
      const jsonl = (xs: object[]) => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';
      await writeFile(
        file('fixes.jsonl'),
        jsonl(
          bugs.map((b) => ({
            bug_id: b.bugId,
            completion: Object.values(b.fix)
              .map((c) => `\`\`\`python\n${c}\`\`\``)
              .join('\n'),
          })),
        ),
      );
      const good = await cli(
        f.env,
        'submit',
        'repair',
        '--dataset',
        dataset,
        '--patches',
        file('fixes.jsonl'),
        '--run-id',
        'fixes',
        '--wait',
      );
      expect(good.code, good.err).toBe(0);
      const results = (await f.fleetEnv.store.get(runKeys.report('fixes', 'patches_results.jsonl')))
        .toString()
        .trim()
        .split('\n');
      const fixed = results.map((l) => JSON.parse(l) as { bug_id: string; fixed: boolean; failing?: string[] });
      expect(fixed.filter((x) => !x.fixed)).toEqual([]);
      expect(fixed).toHaveLength(bugs.length);

      const echo = bugs
        .slice(0, 5)
        .map((b) => ({ bug_id: b.bugId, completion: repairAnswer(parseBehaviour('fake/repair:never'), b, '') }));
      await writeFile(file('echo.jsonl'), jsonl(echo));
      const bad = await cli(
        f.env,
        'submit',
        'repair',
        '--dataset',
        dataset,
        '--patches',
        file('echo.jsonl'),
        '--run-id',
        'echo',
        '--wait',
      );
      expect(bad.code, bad.err).toBe(0);
      const echoed = (await f.fleetEnv.store.get(runKeys.report('echo', 'patches_results.jsonl')))
        .toString()
        .trim()
        .split('\n');
      expect(echoed.map((l) => (JSON.parse(l) as { fixed: boolean }).fixed)).toEqual([
        false,
        false,
        false,
        false,
        false,
      ]);
    },
  );

  it('resubmitting a run skips the attempts that already have a result', { timeout: 180_000 }, async () => {
    const f = await start('repair-resume');
    const first = await cli(
      f.env,
      'submit',
      'repair',
      '--dataset',
      dataset,
      '--bugs',
      'math-gcd-loop,math-clamp-swapped',
      '--models',
      'first',
      '--run-id',
      'repair-resume',
      '--wait',
    );
    expect(first.code, first.err).toBe(0);
    const calls = f.provider.log().length;
    const again = await cli(
      f.env,
      'submit',
      'repair',
      '--dataset',
      dataset,
      '--bugs',
      'math-gcd-loop,math-clamp-swapped,math-is-prime-one',
      '--models',
      'first',
      '--run-id',
      'repair-resume',
      '--wait',
    );
    expect(again.code, again.err).toBe(0);
    const record = JSON.parse((await f.fleetEnv.store.get(runKeys.record('repair-resume'))).toString()) as {
      skippedJobs: number;
      totalJobs: number;
    };
    expect(record).toMatchObject({ skippedJobs: 2, totalJobs: 3 });
    expect(f.provider.log().length - calls, JSON.stringify(await rows(f, 'repair-resume'))).toBe(1);
    expect((await rows(f, 'repair-resume')).map((x) => [x.bugId, x.verdict]).sort()).toEqual([
      ['math-clamp-swapped', 'fixed'],
      ['math-gcd-loop', 'fixed'],
      ['math-is-prime-one', 'fixed'],
    ]);
  });
});
