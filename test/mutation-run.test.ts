// The mutation workload through the real fleet on the bundled example project (datasets/mutation-example):
// exact statuses for known mutants (killed by the named test, survived, no coverage, a never-terminating
// mutant timed out with the fleet still healthy, import-breaking mutants incompetent), the same statuses
// with 1 and 3 evaluators, each status agreeing with a direct `python3 -m pytest` of that mutant, the
// Stryker report valid, `evalfleet mutants` and `--rerun-survivors`.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutantsDocSchema, projectKeys, strykerProblems } from '../shared/src/kinds/mutation/index.js';
import { runKeys } from '../shared/src/runs/index.js';
import { getJson } from '../shared/src/storage/index.js';
import { mapLimit } from '../shared/src/report/index.js';
import { launchChromium, watchPage } from './support/chromium.js';
import { cli } from './support/cli.js';
import { allowedStatuses, directPytest } from './support/direct-pytest.js';
import { mutantLines, startMutationFleet, type MutantLine } from './support/mutation-fleet.js';
import type { TestFleet } from './support/fleet.js';

const project = 'datasets/mutation-example';
const submit = (runId: string, ...more: string[]) => [
  'submit',
  'mutation',
  '--project',
  project,
  '--batch-mutants',
  '25',
  '--timeout-floor-ms',
  '1000',
  '--run-id',
  runId,
  '--wait',
  ...more,
];

/** A mutant by where it is and what it changes: `pricing.py:8 comparison <= → <`. */
const change = (m: MutantLine) =>
  `${m.file.replace('shop/', '')}:${m.line} ${m.operator} ${m.original} → ${m.replacement}`;

let fleet: TestFleet;
let evaluatorOps = '';
let first: MutantLine[] = [];

beforeAll(async () => {
  fleet = await startMutationFleet('mutation', { services: ['producer', 'mutator', 'aggregator'] });
  evaluatorOps = await fleet.startService('evaluator');
}, 120_000);
afterAll(async () => {
  await fleet?.stop();
});

describe('mutation run on the example project', () => {
  it('gives the exact status of known mutants; reports in Stryker’s schema', { timeout: 300_000 }, async () => {
    const run = await cli(fleet.env, ...submit('mutation-one'));
    expect(run.code, run.err).toBe(0);
    const { store } = fleet.fleetEnv;
    first = await mutantLines(store, 'mutation-one');
    expect(first).toHaveLength(136);
    const byChange = new Map<string, MutantLine>();
    for (const m of first) if (!byChange.has(change(m))) byChange.set(change(m), m);
    const status = (c: string) => {
      const m = byChange.get(c);
      return m ? [m.status, ...(m.killedBy ?? []).map((t) => t.split('::').pop())] : ['missing'];
    };
    expect(status('pricing.py:10 arithmetic * → /')).toEqual(['killed', 'test_subtotal_skips_empty_lines']);
    expect(status('pricing.py:8 comparison <= → <')).toEqual(['survived']);
    expect(status('pricing.py:23 comparison >= → >')).toEqual(['survived']);
    expect(status('inventory.py:29 except OutOfStock → ()')).toEqual(['killed', 'test_try_remove']);
    expect(status('inventory.py:30 return False → None')).toEqual(['survived']);
    expect(status('inventory.py:11 statement raise ValueError("quantity must be positive") → pass')).toEqual([
      'no_coverage',
    ]);
    expect(status('inventory.py:9 default 1 → None')).toEqual(['killed', 'test_remove_last_deletes_the_item']);
    expect(status('text.py:5 loop continue → break')).toEqual(['killed', 'test_slugify']);
    // Never terminates: the restock loop stops counting down.
    expect(status('inventory.py:37 augmented -= → +=')).toEqual(['timeout']);
    // Import-breaking: CENTS = 0 divides by zero while the package imports.
    expect(status('config.py:3 number 100 → 0')).toEqual(['incompetent']);
    expect(status('config.py:3 number 100 → 101')).toEqual(['killed', 'test_to_cents']);
    const counts = Object.fromEntries(
      ['killed', 'survived', 'timeout', 'incompetent', 'no_coverage', 'infra_error'].map((s) => [
        s,
        first.filter((m) => m.status === s).length,
      ]),
    );
    expect(counts).toEqual({ killed: 100, survived: 22, timeout: 2, incompetent: 3, no_coverage: 9, infra_error: 0 });

    const summary = await getJson(store, runKeys.report('mutation-one', 'summary.json'));
    expect(summary).toMatchObject({ mutants: 136, score: 76.69 });
    const stryker = await getJson(store, runKeys.report('mutation-one', 'mutation-report.json'));
    expect(strykerProblems(stryker)).toEqual([]);
    const html = await readFile(`${fleet.fleetEnv.artifactDir}/runs/mutation-one/mutation-report.html`, 'utf8');
    expect(html).toContain('<mutation-test-report-app');
    expect(html).not.toMatch(/<script[^>]+src=/);
    const page = await readFile(`${fleet.fleetEnv.artifactDir}/runs/mutation-one/report.html`, 'utf8');
    expect(page).toContain('mutation-report.html');

    // The Stryker page renders offline (file://, nothing fetched, no errors): file names and the score show.
    const browser = await launchChromium();
    try {
      const tab = await browser.context.newPage();
      const seen = watchPage(tab);
      await tab.goto(pathToFileURL(`${fleet.fleetEnv.artifactDir}/runs/mutation-one/mutation-report.html`).href);
      await tab.locator('text=pricing.py').first().waitFor({ state: 'attached' });
      expect(await tab.locator('text=76.69').count()).toBeGreaterThan(0);
      expect(seen.errors).toEqual([]);
      expect(seen.requests.filter((r) => !r.startsWith('file:'))).toEqual([]);
    } finally {
      await browser.close();
    }

    // The evaluator that timed the never-terminating mutants out is still healthy.
    const ready = await fetch(`${evaluatorOps}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('gives each mutant the status a direct pytest run of it gives', { timeout: 300_000 }, async () => {
    expect(first).toHaveLength(136);
    const doc = await getJson(
      fleet.fleetEnv.store,
      projectKeys.mutants('mutation-one', 'mutation-example'),
      mutantsDocSchema,
    );
    const byId = new Map(doc.mutants.map((m) => [m.id, m]));
    const tests = ['tests/test_inventory.py', 'tests/test_pricing.py', 'tests/test_text.py'];
    const mismatches = (
      await mapLimit(first, 3, async (m) => {
        const spec = byId.get(m.id)!;
        // A mutant the fleet timed out must still be running after a while; the others finish quickly.
        const direct = await directPytest(project, spec, tests, m.status === 'timeout' ? 5_000 : 60_000);
        const allowed = allowedStatuses(direct);
        return allowed.includes(m.status)
          ? undefined
          : `${m.id} ${change(m)}: fleet ${m.status}, pytest ${allowed.join('|')}`;
      })
    ).filter((x) => x !== undefined);
    expect(mismatches).toEqual([]);
  });

  it('gives the same statuses with 3 evaluators', { timeout: 300_000 }, async () => {
    expect(first).toHaveLength(136);
    await fleet.startService('evaluator');
    await fleet.startService('evaluator');
    const run = await cli(fleet.env, ...submit('mutation-three'));
    expect(run.code, run.err).toBe(0);
    const three = await mutantLines(fleet.fleetEnv.store, 'mutation-three');
    const statuses = (lines: MutantLine[]) => Object.fromEntries(lines.map((m) => [m.id, m.status]));
    expect(statuses(three)).toEqual(statuses(first));
  });

  it('ends a project whose suite fails without mutants, naming the failing test', { timeout: 120_000 }, async () => {
    const dir = path.join(fleet.fleetEnv.artifactDir, 'broken-project');
    await mkdir(dir);
    await writeFile(path.join(dir, 'calc.py'), 'def double(x):\n    return x * 2\n');
    await writeFile(
      path.join(dir, 'test_calc.py'),
      'from calc import double\n\n\ndef test_ok():\n    assert double(2) == 4\n\n\ndef test_wrong():\n    assert double(2) == 5\n',
    );
    const run = await cli(fleet.env, 'submit', 'mutation', '--project', dir, '--run-id', 'mutation-broken', '--wait');
    expect(run.code).toBe(1);
    expect(run.err).toContain('project broken-project: the test suite does not pass without mutants (tests_failed)');
    expect(run.err).toContain('failing tests: test_calc.py::test_wrong');
    const summary = await getJson(fleet.fleetEnv.store, runKeys.report('mutation-broken', 'summary.json'));
    expect(summary).toMatchObject({ mutants: 0, projects: [{ project: 'broken-project', status: 'baseline_failed' }] });
  });

  it(
    'gives each mutant the files the project had: a test that writes into it leaks into no other',
    { timeout: 120_000 },
    async () => {
      const dir = path.join(fleet.fleetEnv.artifactDir, 'writer-project');
      await mkdir(dir);
      await writeFile(
        path.join(dir, 'calc.py'),
        'def double(x):\n    return x * 2\n\n\ndef label(n):\n    return "even" if n % 2 == 0 else "odd"\n',
      );
      await writeFile(
        path.join(dir, 'test_calc.py'),
        [
          'import os',
          'from calc import double, label',
          '',
          '',
          'def test_writes_a_report():',
          '    assert not os.path.exists("report.txt")',
          '    with open("report.txt", "w") as out:',
          '        out.write(str(double(2)))',
          '    assert open("report.txt").read() == "4"',
          '',
          '',
          'def test_label():',
          '    assert label(3) == "odd"',
          '',
        ].join('\n'),
      );
      const run = await cli(fleet.env, 'submit', 'mutation', '--project', dir, '--run-id', 'mutation-writer', '--wait');
      expect(run.code, run.err).toBe(0);
      const lines = await mutantLines(fleet.fleetEnv.store, 'mutation-writer');
      const doc = await getJson(
        fleet.fleetEnv.store,
        projectKeys.mutants('mutation-writer', 'writer-project'),
        mutantsDocSchema,
      );
      const byId = new Map(doc.mutants.map((m) => [m.id, m]));
      expect(lines.length).toBeGreaterThan(5);
      expect(lines.filter((m) => m.status === 'survived').length).toBeGreaterThan(0);
      const mismatches = (
        await mapLimit(lines, 3, async (m) => {
          const allowed = allowedStatuses(await directPytest(dir, byId.get(m.id)!, ['test_calc.py'], 60_000));
          return allowed.includes(m.status)
            ? undefined
            : `${m.id} ${change(m)}: fleet ${m.status}, pytest ${allowed.join('|')}`;
        })
      ).filter((x) => x !== undefined);
      expect(mismatches).toEqual([]);
    },
  );

  it('lists survivors with their diffs and re-runs only them', { timeout: 300_000 }, async () => {
    const listed = await cli(fleet.env, 'mutants', 'mutation-one', '--status', 'survived');
    expect(listed.code, listed.err).toBe(0);
    expect(listed.out).toContain('mutation-example:72 survived  shop/pricing.py:8:16  ComparisonOperator');
    expect(listed.out).toContain('-        if qty <= 0:\n    +        if qty < 0:');
    expect(listed.err).toContain('22 mutants');

    const rerun = await cli(
      fleet.env,
      'submit',
      'mutation',
      '--rerun-survivors',
      'mutation-one',
      '--run-id',
      'mutation-rerun',
      '--wait',
    );
    expect(rerun.code, rerun.err).toBe(0);
    const again = await mutantLines(fleet.fleetEnv.store, 'mutation-rerun');
    const survivors = first.filter((m) => m.status === 'survived');
    expect(again.map((m) => [m.id, m.status])).toEqual(survivors.map((m) => [m.id, 'survived']));
  });
});
