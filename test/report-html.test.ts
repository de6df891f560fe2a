// report.html rendered in headless Chromium: a solve run over the fake provider (with a judge)
// ends with a page whose charts draw, whose matrix opens a sample's code, test output and LLM
// call, that fetches nothing and logs no error; summary.json holds the failure clusters and the
// judge's labels. A page with hostile text in every field shows it as text.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { mistakeCategories } from '../shared/src/kinds/solve/index.js';
import { renderReportPage, type ReportDoc } from '../shared/src/report/index.js';
import { keptDir, launchChromium, paintedCanvases, watchPage, type Browser } from './support/chromium.js';
import { cli } from './support/cli.js';
import { startSolveFleet, type SolveFleet } from './support/solve-fleet.js';

let fleet: SolveFleet | undefined;
let browser: Browser | undefined;
afterEach(async () => {
  await browser?.close();
  browser = undefined;
  await fleet?.stop();
  fleet = undefined;
});

type Cluster = { signature: string; count: number; byModel: Record<string, number>; examples: { jobId: string }[] };
type Summary = {
  models: { model: string; verdicts: Record<string, number> }[];
  failureClusters: { failedSamples: number; clusters: Cluster[]; omittedSamples: number };
  judgements: {
    judgeModel: string;
    judged: number;
    unjudged: number;
    byModel: Record<string, Record<string, number>>;
  };
};
type Row = { model: string; verdict: string; passed: boolean; judgement?: { category: string; explanation: string } };

const evaluatedFailures = ['failed', 'error', 'timeout', 'oom'];
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('report.html', () => {
  it(
    'draws a solve run: charts, drill-down, clusters and judge; offline, no errors',
    { timeout: 300_000 },
    async () => {
      fleet = await startSolveFleet('report-html');
      const runId = 'report-html-e2e';
      const submitted = await cli(
        fleet.env,
        'submit',
        'solve',
        '--dataset',
        'datasets/solve-example.jsonl',
        '--quick-test',
        '--models',
        'good,mixed,prose,broken',
        '--samples-per-task',
        '2',
        '--judge',
        'good',
        '--run-id',
        runId,
        '--wait',
        '--json',
      );
      expect(submitted.code, submitted.err).toBe(0);
      const summary = JSON.parse(submitted.out) as Summary;
      const store = fleet.fleetEnv.store;

      // Clusters: every scored failure is in exactly one cluster, counted under its model.
      const failedOf = (m: Summary['models'][number]) =>
        sum(['failed', 'error', 'timeout', 'oom', 'no_code', 'syntax_error'].map((v) => m.verdicts[v] ?? 0));
      const { failureClusters: fc } = summary;
      expect(fc.failedSamples).toBe(sum(summary.models.map(failedOf)));
      expect(fc.failedSamples).toBeGreaterThan(0);
      expect(sum(fc.clusters.map((c) => c.count)) + fc.omittedSamples).toBe(fc.failedSamples);
      for (const m of summary.models) {
        expect(sum(fc.clusters.map((c) => c.byModel[m.model] ?? 0)), m.model).toBe(failedOf(m));
      }
      for (const c of fc.clusters) expect(sum(Object.values(c.byModel))).toBe(c.count);
      // Same verdict from the same cause: prose answers are one cluster, the broken model's syntax errors too.
      const prose = fc.clusters.filter((c) => c.byModel['prose']);
      expect(prose).toHaveLength(1);
      expect(prose[0]?.count).toBe(10);

      // Judge: exactly the evaluated failures are labelled, with a category of the list.
      const rows = (await store.get(`runs/${runId}/results.jsonl`))
        .toString('utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Row);
      const judged = rows.filter((r) => r.judgement);
      const shouldBe = rows.filter((r) => evaluatedFailures.includes(r.verdict));
      expect(shouldBe.length).toBeGreaterThan(0);
      expect(judged).toHaveLength(shouldBe.length);
      expect(judged.every((r) => r.judgement!.category in mistakeCategories && r.judgement!.explanation)).toBe(true);
      expect(summary.judgements).toMatchObject({ judgeModel: 'good', judged: shouldBe.length, unjudged: 0 });
      const mixedFailures = shouldBe.filter((r) => r.model === 'mixed').length;
      expect(sum(Object.values(summary.judgements.byModel['mixed'] ?? {}))).toBe(mixedFailures);
      // The judge's calls are traced apart from the generation's.
      const traceKeys: string[] = [];
      for await (const k of store.list(`runs/${runId}/traces/`)) traceKeys.push(k);
      expect(traceKeys.filter((k) => k.includes(encodeURIComponent('#judge')))).toHaveLength(shouldBe.length);

      // The page is one of the run's reports, and `report --html` writes it locally.
      const completed = JSON.parse((await store.get(`runs/${runId}/completed.json`)).toString('utf8')) as {
        reports: Record<string, string>;
      };
      expect(completed.reports['report.html']).toBe(`runs/${runId}/report.html`);
      const kept = await keptDir('report-html');
      const written = await cli(fleet.env, 'report', runId, '--html', '--out', kept);
      expect(written.code, written.err).toBe(0);
      const file = path.join(kept, 'report.html');
      expect(written.err).toContain(file);

      browser = await launchChromium();
      const page = await browser.context.newPage();
      const seen = watchPage(page);
      await page.goto(pathToFileURL(file).href);
      // Every chart draws: poll until each canvas has painted pixels (Chart.js draws on construction).
      await page.waitForFunction(
        `(() => { const c = ${paintedCanvases}; return c.length > 0 && c.every((x) => x.painted > 0); })()`,
      );
      const canvases = await page.evaluate<{ label: string; painted: number }[]>(paintedCanvases);
      expect(canvases.map((c) => c.label)).toEqual(
        expect.arrayContaining([
          'pass@k per model (%)',
          'pass@1 per category (%)',
          'Cost against pass@1 (each point a model)',
          'LLM latency (calls not answered from the cache)',
          'Completion tokens per sample',
          'Mistake categories per model',
        ]),
      );
      expect(canvases.every((c) => c.painted > 500)).toBe(true);

      // Drill-down: a failing cell of the mixed model opens its samples, then one sample's record.
      const cell = page
        .locator('#tasks td.cell button[title^="mixed ·"]')
        .filter({ hasText: /^0\/2$/ })
        .first();
      await cell.click();
      const dialog = page.locator('dialog#detail');
      await expect.poll(() => dialog.isVisible()).toBe(true);
      await dialog.locator('ul.detail-list button').first().click();
      const labels = await dialog.locator('.field h4').allTextContents();
      expect(labels).toEqual(
        expect.arrayContaining(['Result', 'Judge', 'Code', 'Tests', 'Test output', 'LLM call', 'Prompt', 'Response']),
      );
      const code = await dialog.locator('.field', { hasText: 'Code' }).locator('pre').first().textContent();
      expect(code).toContain('def ');
      const screenshots = {
        page: path.join(kept, 'report.png'),
        detail: path.join(kept, 'report-detail.png'),
      };
      await page.screenshot({ path: screenshots.detail });
      await dialog.locator('button.close').click();
      await expect.poll(() => dialog.isVisible()).toBe(false);
      await page.screenshot({ path: screenshots.page, fullPage: true });
      console.log(`report.html screenshots: ${screenshots.page} ${screenshots.detail}`);

      expect(seen.errors).toEqual([]);
      // Offline: the page asked for nothing but itself.
      expect(seen.requests.filter((u) => !u.startsWith('file:') && !u.startsWith('data:'))).toEqual([]);
    },
  );

  it('shows hostile text as text: no markup or script from the data runs', { timeout: 60_000 }, async () => {
    const hostile = '</script><script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"><!--';
    const doc: ReportDoc = {
      title: hostile,
      subtitle: hostile,
      notes: [hostile],
      sections: [
        {
          id: 'x',
          title: hostile,
          blocks: [
            { type: 'text', text: hostile },
            { type: 'table', columns: [hostile], rows: [[{ text: hostile, details: ['d'] }]] },
            {
              type: 'chart',
              title: hostile,
              chart: { kind: 'bar', labels: [hostile], series: [{ name: hostile, values: [1] }] },
            },
          ],
        },
      ],
      details: { d: { title: hostile, fields: [{ label: hostile, text: hostile, kind: 'code' }] } },
    };
    const file = path.join(await keptDir('report-html'), 'hostile.html');
    await writeFile(file, await renderReportPage(doc));
    browser = await launchChromium();
    const page = await browser.context.newPage();
    const seen = watchPage(page);
    await page.goto(pathToFileURL(file).href);
    await page.locator('#x table button.open').click();
    await expect.poll(() => page.locator('dialog#detail pre').textContent()).toBe(hostile);
    expect(await page.evaluate('window.pwned')).toBeUndefined();
    expect(await page.locator('#x p.text').textContent()).toBe(hostile);
    expect(await page.title()).toBe(hostile);
    expect(await page.locator('img').count()).toBe(0);
    expect(seen.errors).toEqual([]);
  });
});
