// evalfleet's Grafana dashboards as code (@grafana/grafana-foundation-sdk). `npm run grafana:dashboards`
// writes them to deploy/grafana/dashboards/*.json; test/ops/dashboards.test.ts fails when the files drift
// from this module, and test/ops/dashboard-queries.test.ts runs every query against a real Prometheus.
// Metric names come from the services' metrics (shared/src/metrics, the services' own counters).
import { LegendDisplayMode, LegendPlacement, VizLegendOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import {
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  RowBuilder,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TableBuilder } from '@grafana/grafana-foundation-sdk/table';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';

const datasource = { type: 'prometheus', uid: '${datasource}' };

type Query = { expr: string; legend?: string; instant?: boolean };
type PanelSpec = {
  title: string;
  description: string;
  unit: string;
  queries: Query[];
  /** Grid width out of 24. */
  width?: number;
  kind?: 'timeseries' | 'stat' | 'table';
};

function target(q: Query, i: number): DataqueryBuilder {
  const b = new DataqueryBuilder()
    .datasource(datasource)
    .refId(String.fromCharCode(65 + i))
    .expr(q.expr);
  if (q.legend) b.legendFormat(q.legend);
  if (q.instant) b.instant().format(PromQueryFormat.Table);
  return b;
}

function panel(spec: PanelSpec): TimeseriesBuilder | StatBuilder | TableBuilder {
  const b =
    spec.kind === 'stat' ? new StatBuilder() : spec.kind === 'table' ? new TableBuilder() : new TimeseriesBuilder();
  b.title(spec.title)
    .description(spec.description)
    .datasource(datasource)
    .unit(spec.unit)
    .height(8)
    .span(spec.width ?? 12);
  spec.queries.forEach((q, i) => b.withTarget(target(q, i)));
  if (b instanceof TimeseriesBuilder) {
    b.fillOpacity(10)
      .lineWidth(1)
      .legend(
        new VizLegendOptionsBuilder()
          .showLegend(true)
          .displayMode(LegendDisplayMode.List)
          .placement(LegendPlacement.Bottom),
      );
  }
  return b;
}

function dashboard(
  uid: string,
  title: string,
  description: string,
  rows: { title: string; panels: PanelSpec[] }[],
): Dashboard {
  const b = new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['evalfleet', 'generated'])
    .editable()
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'));
  for (const row of rows) {
    b.withRow(new RowBuilder(row.title));
    for (const p of row.panels) b.withPanel(panel(p));
  }
  return b.build();
}

const rate = '$__rate_interval';

const fleet = dashboard(
  'evalfleet-fleet',
  'evalfleet / Fleet overview',
  'Jobs, queues, dead letters, in-flight work and consumers per stage; service health.',
  [
    {
      title: 'Throughput',
      panels: [
        {
          title: 'Jobs/s by stage and outcome',
          description: 'Messages handled per second (ack, retry, dead_letter, stale, requeued).',
          unit: 'reqps',
          queries: [
            { expr: `sum by (stage, outcome) (rate(evalfleet_jobs_total[${rate}]))`, legend: '{{stage}} {{outcome}}' },
          ],
        },
        {
          title: 'Handler outcomes/s by stage',
          description: "What each stage's handlers decided, by stage and outcome.",
          unit: 'reqps',
          queries: [
            {
              expr: `sum by (stage, outcome) (rate(evalfleet_step_outcomes_total[${rate}]))`,
              legend: '{{stage}} {{outcome}}',
            },
          ],
        },
        {
          title: 'Jobs dead-lettered in range by stage and code',
          description:
            'Jobs that ended dead-lettered (their run still completes); see the DLQ with `evalfleet dlq list`.',
          unit: 'short',
          queries: [
            {
              expr: 'sum by (stage, code) (increase(evalfleet_dead_lettered_jobs_total[$__range]))',
              legend: '{{stage}} {{code}}',
            },
          ],
        },
        {
          title: 'Handler duration p95 by stage',
          description: 'Time a handler spent on one message, 95th percentile.',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.95, sum by (stage, le) (rate(evalfleet_stage_duration_seconds_bucket[${rate}])))`,
              legend: '{{stage}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Queues',
      panels: [
        {
          title: 'Queue depth (ready) by stage',
          description: 'Ready messages in each stage queue, sampled by the services (unacked ones not included).',
          unit: 'short',
          width: 8,
          queries: [{ expr: 'max by (stage) (evalfleet_queue_depth{role="work"})', legend: '{{stage}}' }],
        },
        {
          title: 'Oldest message age by stage',
          description: 'Age of the message at the head of each stage queue: how far behind the stage is.',
          unit: 's',
          width: 8,
          queries: [
            { expr: 'max by (stage) (evalfleet_queue_oldest_message_age_seconds{role="work"})', legend: '{{stage}}' },
          ],
        },
        {
          title: 'Dead-letter queue depth by stage',
          description: 'Messages in each stage DLQ; drain with `evalfleet dlq inspect|requeue|purge STAGE`.',
          unit: 'short',
          width: 8,
          queries: [{ expr: 'max by (stage) (evalfleet_queue_depth{role="dead_letter"})', legend: '{{stage}}' }],
        },
        {
          title: 'In-flight messages by stage',
          description: 'Messages consumers are handling right now (at most prefetch per consumer).',
          unit: 'short',
          width: 8,
          queries: [{ expr: 'sum by (stage) (evalfleet_in_flight_messages)', legend: '{{stage}}' }],
        },
        {
          title: 'Consumers by stage',
          description: 'Consumers attached to each stage queue, as the broker reports them.',
          unit: 'short',
          width: 8,
          queries: [{ expr: 'max by (stage) (evalfleet_queue_consumers)', legend: '{{stage}}' }],
        },
        {
          title: 'Publishes/s by exchange role and outcome',
          description: 'Confirmed publishes to the work, retry and dead-letter exchanges.',
          unit: 'reqps',
          width: 8,
          queries: [
            {
              expr: `sum by (role, outcome) (rate(evalfleet_published_total[${rate}]))`,
              legend: '{{role}} {{outcome}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Services',
      panels: [
        {
          title: 'Instances up by service',
          description: 'Scrape targets answering /metrics.',
          unit: 'short',
          width: 6,
          kind: 'stat',
          queries: [{ expr: 'sum by (service) (up{job="evalfleet"})', legend: '{{service}}' }],
        },
        {
          title: 'Broker connection by service',
          description: '1 while every instance of the service is connected to RabbitMQ.',
          unit: 'short',
          width: 6,
          kind: 'stat',
          queries: [{ expr: 'min by (service) (evalfleet_broker_connected)', legend: '{{service}}' }],
        },
        {
          title: 'CPU by service',
          description: 'CPU seconds per second, all instances of a service together.',
          unit: 'percentunit',
          width: 6,
          queries: [
            {
              expr: `sum by (service) (rate(process_cpu_seconds_total{job="evalfleet"}[${rate}]))`,
              legend: '{{service}}',
            },
          ],
        },
        {
          title: 'Resident memory by service',
          description: 'Resident set size, all instances of a service together.',
          unit: 'bytes',
          width: 6,
          queries: [
            { expr: 'sum by (service) (process_resident_memory_bytes{job="evalfleet"})', legend: '{{service}}' },
          ],
        },
      ],
    },
  ],
);

const llm = dashboard(
  'evalfleet-llm',
  'evalfleet / LLM',
  'Model calls: requests, tokens, cost, latency, 429s and the fleet rate limiter, per provider and model.',
  [
    {
      title: 'Calls',
      panels: [
        {
          title: 'Requests/s by provider, model and outcome',
          description: 'LLM calls by registry model name and outcome (ok or the error code, e.g. rate_limited).',
          unit: 'reqps',
          queries: [
            {
              expr: `sum by (provider, model, outcome) (rate(evalfleet_llm_requests_total[${rate}]))`,
              legend: '{{provider}}/{{model}} {{outcome}}',
            },
          ],
        },
        {
          title: 'Latency p50 / p95 by model',
          description: 'Successful call latency.',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.5, sum by (model, le) (rate(evalfleet_llm_latency_seconds_bucket{outcome="ok"}[${rate}])))`,
              legend: '{{model}} p50',
            },
            {
              expr: `histogram_quantile(0.95, sum by (model, le) (rate(evalfleet_llm_latency_seconds_bucket{outcome="ok"}[${rate}])))`,
              legend: '{{model}} p95',
            },
          ],
        },
        {
          title: 'Tokens/s by model and direction',
          description: 'Tokens the providers reported (prompt, completion).',
          unit: 'short',
          width: 8,
          queries: [
            {
              expr: `sum by (model, direction) (rate(evalfleet_llm_tokens_total[${rate}]))`,
              legend: '{{model}} {{direction}}',
            },
          ],
        },
        {
          title: 'Spend by model (USD/hour)',
          description: 'Cost from the price table in models.yaml, as an hourly rate.',
          unit: 'currencyUSD',
          width: 8,
          queries: [
            { expr: `sum by (model) (rate(evalfleet_llm_cost_usd_total[${rate}])) * 3600`, legend: '{{model}}' },
          ],
        },
        {
          title: 'Spend in range by model',
          description: 'USD spent over the dashboard time range.',
          unit: 'currencyUSD',
          width: 8,
          kind: 'stat',
          queries: [{ expr: 'sum by (model) (increase(evalfleet_llm_cost_usd_total[$__range]))', legend: '{{model}}' }],
        },
        {
          title: 'Response cache by model',
          description: 'Cache lookups (hit: a re-run or resume paid nothing).',
          unit: 'reqps',
          queries: [
            {
              expr: `sum by (model, result) (rate(evalfleet_llm_cache_total[${rate}]))`,
              legend: '{{model}} {{result}}',
            },
          ],
        },
        {
          title: 'Generate outcomes by kind',
          description: 'What the generate handlers decided (ok, no_code, budget_exhausted, ...).',
          unit: 'reqps',
          queries: [
            {
              expr: `sum by (kind, outcome) (rate(evalfleet_step_outcomes_total{stage="generate"}[${rate}]))`,
              legend: '{{kind}} {{outcome}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Rate limits',
      panels: [
        {
          title: '429s/s by provider',
          description: 'Rate-limit answers from providers; each pauses the scope for the whole fleet.',
          unit: 'reqps',
          width: 8,
          queries: [
            {
              expr: `sum by (provider) (rate(evalfleet_ratelimit_provider_429_total[${rate}]))`,
              legend: '{{provider}}',
            },
          ],
        },
        {
          title: '429 share by provider and model',
          description: 'Fraction of calls answered 429 (alert EvalfleetProvider429RateHigh above 10 %).',
          unit: 'percentunit',
          width: 8,
          queries: [
            {
              expr:
                `sum by (provider, model) (rate(evalfleet_llm_requests_total{outcome="rate_limited"}[${rate}]))` +
                ` / sum by (provider, model) (rate(evalfleet_llm_requests_total[${rate}]))`,
              legend: '{{provider}}/{{model}}',
            },
          ],
        },
        {
          title: 'Limiter wait p95 by scope',
          description: 'Time calls waited in the fleet rate limiter (scope: model:<name> or provider:<name>).',
          unit: 's',
          width: 8,
          queries: [
            {
              expr: `histogram_quantile(0.95, sum by (scope, le) (rate(evalfleet_ratelimit_wait_seconds_bucket[${rate}])))`,
              legend: '{{scope}}',
            },
          ],
        },
        {
          title: 'Limiter waits/s by scope and reason',
          description: 'Times a call was told to wait (capacity, retry_after, exhausted, rate_limited, ...).',
          unit: 'reqps',
          width: 8,
          queries: [
            {
              expr: `sum by (scope, reason) (rate(evalfleet_ratelimit_waits_total[${rate}]))`,
              legend: '{{scope}} {{reason}}',
            },
          ],
        },
        {
          title: 'Limiter admissions/s by scope',
          description: 'Calls the fleet limiter admitted.',
          unit: 'reqps',
          width: 8,
          queries: [
            { expr: `sum by (scope) (rate(evalfleet_ratelimit_admitted_total[${rate}]))`, legend: '{{scope}}' },
          ],
        },
        {
          title: 'Tokens reserved vs used by scope',
          description: 'Reserved before the call (estimate + max output) and reconciled to the reported usage.',
          unit: 'short',
          width: 8,
          queries: [
            {
              expr: `sum by (scope) (rate(evalfleet_ratelimit_tokens_reserved_total[${rate}]))`,
              legend: '{{scope}} reserved',
            },
            {
              expr: `sum by (scope) (rate(evalfleet_ratelimit_tokens_actual_total[${rate}]))`,
              legend: '{{scope}} used',
            },
          ],
        },
      ],
    },
  ],
);

const sandbox = dashboard(
  'evalfleet-sandbox',
  'evalfleet / Sandbox',
  'Evaluations in the hardened sandbox: verdicts, durations, pool size and container recycles.',
  [
    {
      title: 'Verdicts',
      panels: [
        {
          title: 'Verdicts/s',
          description: 'passed, failed, error, timeout, oom, infra_error.',
          unit: 'reqps',
          queries: [
            {
              expr: `sum by (verdict) (rate(evalfleet_sandbox_duration_seconds_count[${rate}]))`,
              legend: '{{verdict}}',
            },
          ],
        },
        {
          title: 'Evaluation duration p50 / p95 by verdict',
          description: 'Wall time of one evaluation in the sandbox.',
          unit: 's',
          queries: [
            {
              expr: `histogram_quantile(0.5, sum by (verdict, le) (rate(evalfleet_sandbox_duration_seconds_bucket[${rate}])))`,
              legend: '{{verdict}} p50',
            },
            {
              expr: `histogram_quantile(0.95, sum by (verdict, le) (rate(evalfleet_sandbox_duration_seconds_bucket[${rate}])))`,
              legend: '{{verdict}} p95',
            },
          ],
        },
        {
          title: 'Infrastructure error share by evaluator',
          description:
            'Share of evaluations that failed for sandbox reasons (alert EvalfleetSandboxInfraErrors above 5 %).',
          unit: 'percentunit',
          width: 8,
          queries: [
            {
              expr:
                `1 - sum by (instance) (rate(evalfleet_sandbox_duration_seconds_count{verdict!="infra_error"}[${rate}]))` +
                ` / sum by (instance) (rate(evalfleet_sandbox_duration_seconds_count[${rate}]))`,
              legend: '{{instance}}',
            },
          ],
        },
        {
          title: 'Sandbox containers by state',
          description: 'Pool size per evaluator: idle, busy and starting containers.',
          unit: 'short',
          width: 8,
          queries: [{ expr: 'sum by (state) (evalfleet_sandbox_pool_containers)', legend: '{{state}}' }],
        },
        {
          title: 'Container recycles/s by reason',
          description: 'Sandbox containers replaced (job quota reached, crashed, infra error).',
          unit: 'reqps',
          width: 8,
          queries: [
            { expr: `sum by (reason) (rate(evalfleet_sandbox_recycles_total[${rate}]))`, legend: '{{reason}}' },
          ],
        },
      ],
    },
    {
      title: 'Evaluate stage',
      panels: [
        {
          title: 'Evaluate queue depth and in-flight',
          description: 'Backlog of the evaluate stage (KEDA scales evaluators on it) and what is running.',
          unit: 'short',
          queries: [
            { expr: 'max(evalfleet_queue_depth{stage="evaluate", role="work"})', legend: 'ready' },
            { expr: 'sum(evalfleet_in_flight_messages{stage="evaluate"})', legend: 'in flight' },
          ],
        },
        {
          title: 'Evaluator instances',
          description: 'Evaluator scrape targets answering.',
          unit: 'short',
          kind: 'stat',
          queries: [{ expr: 'sum(up{job="evalfleet", service="evaluator"})', legend: 'evaluators' }],
        },
      ],
    },
  ],
);

const runs = dashboard(
  'evalfleet-runs',
  'evalfleet / Runs',
  'Runs: jobs published and finished, per-run progress, ETA and budget.',
  [
    {
      title: 'Fleet',
      panels: [
        {
          title: 'Jobs published/s by kind',
          description: 'Jobs the producer expanded runs into.',
          unit: 'reqps',
          width: 8,
          queries: [{ expr: `sum by (kind) (rate(evalfleet_jobs_published_total[${rate}]))`, legend: '{{kind}}' }],
        },
        {
          title: 'Results/s by kind and outcome',
          description: 'Terminal job results the aggregator counted (once per job).',
          unit: 'reqps',
          width: 8,
          queries: [
            { expr: `sum by (kind, outcome) (rate(evalfleet_results_total[${rate}]))`, legend: '{{kind}} {{outcome}}' },
          ],
        },
        {
          title: 'Runs completed in range',
          description: 'Runs that ended (completed or failed) over the dashboard time range.',
          unit: 'short',
          width: 8,
          kind: 'stat',
          queries: [
            {
              expr: 'sum by (kind, status) (increase(evalfleet_runs_completed_total[$__range]))',
              legend: '{{kind}} {{status}}',
            },
          ],
        },
      ],
    },
    {
      title: 'Runs in progress',
      panels: [
        {
          title: 'Progress by run',
          description: 'Jobs done / jobs expected, per active run.',
          unit: 'percentunit',
          width: 8,
          kind: 'table',
          queries: [
            {
              expr:
                'max by (run, kind) (evalfleet_run_jobs{state="done"})' +
                ' / max by (run, kind) (evalfleet_run_jobs{state="expected"})',
              instant: true,
            },
          ],
        },
        {
          title: 'ETA by run',
          description: 'Jobs left / jobs finished per second over the last 5 minutes.',
          unit: 's',
          width: 8,
          kind: 'table',
          queries: [
            {
              expr:
                '(max by (run) (evalfleet_run_jobs{state="expected"}) - max by (run) (evalfleet_run_jobs{state="done"}))' +
                ' / max by (run) (deriv(evalfleet_run_jobs{state="done"}[5m]))',
              instant: true,
            },
          ],
        },
        {
          title: 'Budget spent by run',
          description: 'USD spent / the run budget (alert EvalfleetRunBudgetNearlySpent above 90 %).',
          unit: 'percentunit',
          width: 8,
          kind: 'table',
          queries: [
            {
              expr: 'max by (run, kind) (evalfleet_run_cost_usd) / max by (run, kind) (evalfleet_run_budget_usd > 0)',
              instant: true,
            },
          ],
        },
      ],
    },
  ],
);

/** The dashboards by file name (deploy/grafana/dashboards/<name>.json). */
export function buildDashboards(): Record<string, Dashboard> {
  return { fleet, llm, sandbox, runs };
}
