// Every Grafana dashboard query returns data from a real Prometheus: Debian's `prometheus` on a free
// loopback port scrapes a local fleet (producer, generator, evaluator, aggregator in-process, the fake
// provider) every second while a solve run exercises what the panels show — good, wrong and broken
// answers, a rate-limited model, a provider answering 429, a model the provider does not know (its jobs
// are dead-lettered) — and loads deploy/prometheus/rules.yml.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startAggregator } from '../../services/aggregator/src/main.js';
import { startEvaluator } from '../../services/evaluator/src/main.js';
import { startFakeProvider, type FakeProvider } from '../../services/fake-provider/src/index.js';
import { startGenerator } from '../../services/generator/src/main.js';
import { startProducer } from '../../services/producer/src/main.js';
import { cli } from '../support/cli.js';
import { testFleetEnv, type TestFleetEnv } from '../support/fleet.js';
import { waitFor } from '../support/rabbit.js';
import { concreteExpr, dashboardQueries, type DashboardQuery } from './support/dashboard-queries.js';

/**
 * Metrics the dashboards (and alerts) use that no service exports yet; a query that uses one of them is
 * expected to return nothing. When a metric is added to the metrics module, remove it here: the test
 * fails while a listed metric already returns data, so this list cannot go stale.
 */
/** Metrics a dashboard names that no service exports yet (none today; keep the check for new panels). */
const metricsNotYetExported: string[] = [];

/**
 * Series that exist only while a run is in progress (removed when it completes): after the run their
 * queries have no data by design, so the test checks that each had samples during the run instead.
 */
const runInProgressMetrics = ['evalfleet_run_jobs', 'evalfleet_run_cost_usd', 'evalfleet_run_budget_usd'];

const sandboxImage = process.env.EVALFLEET_SANDBOX_IMAGE;
const runId = 'dashboards-run';
const services = {
  producer: startProducer,
  generator: startGenerator,
  evaluator: startEvaluator,
  aggregator: startAggregator,
};

function registryYaml(providerUrl: string): string {
  const model = (id: string, extra: Record<string, number> = {}) => ({
    provider: 'fake',
    model: id,
    input_per_mtok: 1,
    output_per_mtok: 2,
    max_output_tokens: 512,
    ...extra,
  });
  return stringify({
    providers: { fake: { base_url: providerUrl, api_key_env: null } },
    models: {
      good: model('fake/always-right'),
      mixed: model('fake/right-fraction:0.6'),
      broken: model('fake/syntax-error'),
      // 2 calls per (shortened) period: the fleet limiter makes calls wait. (Its own model id, so that its
      // answers do not come from good's cache entries.)
      limited: model('fake/always-right+slow:1', { rpm: 2, tpm: 100_000 }),
      // Every request's first try is answered 429 (a drawn fraction could spare all of this run's few calls).
      flaky: model('fake/always-right+429-first:1'),
      // The provider answers 404: a permanent error, so these jobs are dead-lettered.
      ghost: model('fake/no-such-behaviour'),
    },
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

type PromResult = { metric: Record<string, string>; value: [number, string] };

async function promQuery(base: string, expr: string): Promise<PromResult[]> {
  const res = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query: expr }).toString()}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: PromResult[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? res.status}`);
  return body.data?.result ?? [];
}

let fleetEnv: TestFleetEnv | undefined;
let provider: FakeProvider | undefined;
let prometheus: ChildProcess | undefined;
let promDir: string | undefined;
let promUrl = '';
const stops: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const datasetText = await readFile('datasets/solve-example.jsonl', 'utf8');
  provider = await startFakeProvider({ port: 0, host: '127.0.0.1', datasetText, retryAfterMs: 200 });
  fleetEnv = await testFleetEnv('dashq', {
    SANDBOX: sandboxImage ? 'docker' : 'process',
    ...(sandboxImage ? { EVALFLEET_SANDBOX_IMAGE: sandboxImage } : {}),
    EVALUATOR_CONCURRENCY: '2',
    RATE_LIMIT_PERIOD_MS: '2000',
    QUEUE_DEPTH_INTERVAL_MS: '500',
  });
  const registry = path.join(fleetEnv.artifactDir, 'models.dashboards.yaml');
  await writeFile(registry, registryYaml(provider.url));
  fleetEnv.env['EVALFLEET_MODELS'] = registry;

  const targets: { targets: string[]; labels: { service: string } }[] = [];
  for (const [name, start] of Object.entries(services)) {
    const s = await start({ env: { ...fleetEnv.env }, installSignals: false, cwd: fleetEnv.artifactDir });
    stops.push(() => s.shutdown());
    targets.push({ targets: [new URL(s.opsUrl).host], labels: { service: name } });
  }

  promDir = await mkdtemp(path.join(tmpdir(), 'evalfleet-prometheus-'));
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [path.resolve('deploy/prometheus/rules.yml')],
    scrape_configs: [{ job_name: 'evalfleet', honor_labels: true, static_configs: targets }],
  };
  await writeFile(path.join(promDir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  promUrl = `http://127.0.0.1:${port}`;
  const stderr: string[] = [];
  prometheus = spawn(
    'prometheus',
    [
      `--config.file=${path.join(promDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  prometheus.stderr?.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  await waitFor(
    `prometheus ready on ${promUrl} (stderr: ${stderr.join('').slice(-500)})`,
    async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok,
    30_000,
    100,
  );
}, 120_000);

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
    prometheus.kill('SIGTERM');
    await once(prometheus, 'exit');
  }
  for (const stop of stops.splice(0).reverse()) await stop();
  await provider?.close();
  await fleetEnv?.cleanup();
  if (promDir) await rm(promDir, { recursive: true, force: true });
}, 120_000);

describe('dashboard queries against a real Prometheus', () => {
  it('every query returns data after a run, except those on metrics not exported yet', async () => {
    const env = fleetEnv!.env;
    const models = 'good,mixed,broken,limited,flaky,ghost';
    /** A run of every model; waits until Prometheus has scraped its final state a few times. */
    const runAndScrape = async (id: string, ...extra: string[]) => {
      const run = await cli(
        env,
        'submit',
        'solve',
        '--dataset',
        'datasets/solve-example.jsonl',
        '--limit',
        '4',
        '--models',
        models,
        '--samples-per-task',
        '2',
        '--run-id',
        id,
        // A budget large enough never to stop anything: the budget gauges need one.
        '--budget-usd',
        '100',
        '--json',
        ...extra,
      );
      expect(run.code, run.err).toBe(0);
      await waitFor('run completed', () => fleetEnv!.store.getOptional(`runs/${id}/completed.json`), 180_000, 200);
      // Scrapes so far of the aggregator's runs-completed counter (it exists from the first completion on).
      const scrapes = async () =>
        Math.max(
          0,
          ...(await promQuery(promUrl, 'count_over_time(evalfleet_runs_completed_total[10m])')).map((r) =>
            Number(r.value[1]),
          ),
        );
      const scrapesAtCompletion = await scrapes();
      // Prometheus has scraped the final state a few times (rate and increase need two samples or more).
      await waitFor(
        'three scrapes after the run',
        async () => (await scrapes()) >= scrapesAtCompletion + 3,
        30_000,
        250,
      );
    };
    // Twice: a counter's first scrape is its baseline, so a series born during one run (all of a fast run's
    // calls can land between two scrapes) shows no rate; the second run (no cache) increases known series.
    await runAndScrape(runId);
    await runAndScrape(`${runId}-again`, '--no-cache');
    expect((await promQuery(promUrl, 'up{job="evalfleet"} == 0')).map((r) => r.metric['service'])).toEqual([]);

    const queries = await dashboardQueries();
    const pending = (q: DashboardQuery) =>
      [...metricsNotYetExported, ...runInProgressMetrics].some((m) => q.expr.includes(m));
    for (const metric of runInProgressMetrics) {
      const during = await promQuery(promUrl, `count_over_time(${metric}[10m])`);
      expect(during.length, `${metric} had samples while the run was in progress`).toBeGreaterThan(0);
      expect(await promQuery(promUrl, metric), `${metric} is gone once the run completed`).toEqual([]);
    }
    const results = await Promise.all(
      queries.map(async (q) => {
        const rows = await promQuery(promUrl, concreteExpr(q.expr, { rateInterval: '5m', range: '10m' }));
        const hasData = rows.some((r) => Number.isFinite(Number(r.value[1])));
        return { q, hasData };
      }),
    );
    const describeQ = (q: DashboardQuery) => `${q.dashboard} / ${q.title} [${q.refId}]: ${q.expr}`;
    const missing = results.filter((r) => !r.hasData && !pending(r.q)).map((r) => describeQ(r.q));
    const nowExported = results
      .filter((r) => r.hasData && metricsNotYetExported.some((m) => r.q.expr.includes(m)))
      .map((r) => describeQ(r.q));
    const waiting = results
      .filter((r) => !r.hasData && metricsNotYetExported.some((m) => r.q.expr.includes(m)))
      .map((r) => describeQ(r.q));
    if (waiting.length > 0) {
      console.log(`dashboard queries waiting for metrics not exported yet:\n  ${waiting.join('\n  ')}`);
    }
    expect(missing, 'queries without data').toEqual([]);
    expect(nowExported, 'these return data now: remove their metrics from metricsNotYetExported').toEqual([]);
    expect(results.filter((r) => r.hasData).length).toBeGreaterThan(30);

    // The alert rules loaded and evaluate without errors.
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: { groups: { rules: { name: string; health: string; lastError?: string }[] }[] };
    };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded.length).toBe(8);
    expect(loaded.filter((r) => r.health === 'err')).toEqual([]);
  }, 300_000);
});
