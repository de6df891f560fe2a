/**
 * Fleet-wide rate limiting: four generator-like processes (bench/ratelimit/worker.ts) against the fake
 * provider enforcing an RPM and a TPM limit over a sliding window, in three modes, one after another:
 *
 *   none   no limiter: send, and on a 429 wait what retry-after says (what an SDK's retries do)
 *   local  a per-process limiter at limit / 4 (the same limiter on a scope of its own per process)
 *   fleet  our fleet limiter: one shared scope in Redis
 *
 *   npm run bench:ratelimit -- [--seconds 120] [--rpm 600] [--tpm 90000] [--window-ms 60000]
 *                             [--concurrency 1,2,4,8] [--latency-ms 1000] [--modes none,local,fleet] [--json]
 *
 * Requests vary in size (prompt 20-200 tokens, max_tokens 16-256) and the provider counts the tokens it
 * actually answers, so both limits bind. The processes differ in how much work they can have in flight
 * (--concurrency, one number per process), as processes on different nodes, with different prefetch or
 * started at different times do. Utilization is the provider's count of admitted requests / tokens per
 * window, averaged over every window that lies inside the run (ends every 250 ms from one window after
 * the start to the end), divided by the limit. Progress goes to stderr; with --json the last stdout line
 * is a JSON object.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { meanWindowUsage } from '@evalfleet/shared/ratelimit';
import { startFakeProviderProcess, startWorker, type WorkerReport } from './ratelimit/processes.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    rpm: { type: 'string', default: '600' },
    tpm: { type: 'string', default: '90000' },
    'window-ms': { type: 'string', default: '60000' },
    concurrency: { type: 'string', default: '1,2,4,8' },
    'latency-ms': { type: 'string', default: '1000' },
    modes: { type: 'string', default: 'none,local,fleet' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    json: { type: 'boolean', default: false },
  },
});

const seconds = Number(values.seconds);
const limits = { rpm: Number(values.rpm), tpm: Number(values.tpm) };
const windowMs = Number(values['window-ms']);
const concurrency = values.concurrency.split(',').map(Number);
const modes = values.modes.split(',');

interface ModeResult {
  mode: string;
  utilization_rpm: number;
  utilization_tpm: number;
  binding_utilization: number;
  /** Admitted per window over the whole run, as a fraction of the limits (includes the first window). */
  overall_rpm: number;
  overall_tpm: number;
  rate_429: number;
  /** Requests the provider answered 200. */
  requests: number;
  arrivals: number;
  responses_429: number;
  mean_wait_ms: number;
  abandoned: number;
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

const round = (x: number, digits = 4): number => Math.round(x * 10 ** digits) / 10 ** digits;

async function runMode(mode: string): Promise<ModeResult> {
  const fake = await startFakeProviderProcess({ ...limits, 'window-ms': windowMs, 'token-cost': 'actual' });
  const latest = new Map<number, WorkerReport>();
  const startedAt = Date.now();
  // One key prefix per mode, shared by its processes: the fleet's scope is one scope.
  const prefix = `evalfleet-bench:${randomUUID()}:`;
  try {
    const workers = concurrency.map((lanes, index) =>
      startWorker(
        {
          mode,
          index,
          processes: concurrency.length,
          'provider-url': fake.url,
          'redis-url': values['redis-url'],
          prefix,
          ...limits,
          'period-ms': windowMs,
          concurrency: lanes,
          seconds,
          'latency-ms': values['latency-ms'],
          'progress-ms': 5000,
        },
        (report) => latest.set(report.index, report),
      ),
    );
    const ticker = setInterval(() => {
      const reports = [...latest.values()];
      const sum = (key: 'ok' | 'rateLimited' | 'tokens') => reports.reduce((total, r) => total + r[key], 0);
      const elapsed = Math.round((Date.now() - startedAt) / 1000);
      progress(
        `  ${mode}: ${elapsed}/${seconds} s, ${sum('ok')} answered, ${sum('rateLimited')} 429s, ${sum('tokens')} tokens`,
      );
    }, 10_000);
    let reports: WorkerReport[];
    try {
      reports = await Promise.all(workers.map((w) => w.done));
    } finally {
      clearInterval(ticker);
    }
    const log = await fake.log();
    const first = Math.min(...log.map((a) => a.timeMs));
    const end = first + seconds * 1000;
    const admitted = log.filter((a) => a.status === 200).map((a) => ({ timeMs: a.timeMs, tokens: a.tokens ?? 0 }));
    const mean = meanWindowUsage(admitted, windowMs, first + windowMs, end, 250);
    const inRun = admitted.filter((a) => a.timeMs <= end);
    const windows = (seconds * 1000) / windowMs;
    const utilizationRpm = mean.requests / limits.rpm;
    const utilizationTpm = mean.tokens / limits.tpm;
    const responses429 = log.filter((a) => a.status === 429).length;
    const answered = reports.reduce((total, r) => total + r.ok, 0);
    return {
      mode,
      utilization_rpm: round(utilizationRpm),
      utilization_tpm: round(utilizationTpm),
      binding_utilization: round(Math.max(utilizationRpm, utilizationTpm)),
      overall_rpm: round(inRun.length / windows / limits.rpm),
      overall_tpm: round(inRun.reduce((total, a) => total + a.tokens, 0) / windows / limits.tpm),
      rate_429: round(log.length === 0 ? 0 : responses429 / log.length, 5),
      requests: admitted.length,
      arrivals: log.length,
      responses_429: responses429,
      mean_wait_ms: Math.round(answered === 0 ? 0 : reports.reduce((total, r) => total + r.waitedMs, 0) / answered),
      abandoned: reports.reduce((total, r) => total + r.abandoned, 0),
    };
  } finally {
    await fake.stop();
  }
}

progress(
  `rate-limit benchmark: ${concurrency.length} processes (lanes ${concurrency.join(',')}), ` +
    `rpm ${limits.rpm}, tpm ${limits.tpm} per ${windowMs} ms, ${seconds} s per mode, latency ${values['latency-ms']} ms`,
);
const results: ModeResult[] = [];
for (const mode of modes) {
  progress(`mode ${mode}...`);
  const result = await runMode(mode);
  results.push(result);
  progress(
    `  ${mode}: rpm ${result.utilization_rpm}, tpm ${result.utilization_tpm}, binding ${result.binding_utilization}, ` +
      `429 rate ${result.rate_429} (${result.responses_429}/${result.arrivals})`,
  );
}

const label: Record<string, string> = { none: 'no limiter', local: 'per-process limit/n', fleet: 'fleet limiter' };
console.log(
  '\n| mode | binding util. | RPM util. | TPM util. | 429 rate | 429s / arrivals | overall RPM / TPM | mean wait |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(
    `| ${label[r.mode] ?? r.mode} | ${r.binding_utilization} | ${r.utilization_rpm} | ${r.utilization_tpm} | ${r.rate_429} | ` +
      `${r.responses_429} / ${r.arrivals} | ${r.overall_rpm} / ${r.overall_tpm} | ${r.mean_wait_ms} ms |`,
  );
}

if (values.json) {
  const byMode = Object.fromEntries(results.map((r) => [r.mode, r]));
  const fleet = byMode.fleet;
  console.log(
    JSON.stringify({
      ...(fleet === undefined
        ? {}
        : {
            utilization_rpm: fleet.utilization_rpm,
            utilization_tpm: fleet.utilization_tpm,
            binding_utilization: fleet.binding_utilization,
            rate_429: fleet.rate_429,
            requests: fleet.requests,
          }),
      no_limiter: byMode.none,
      per_process: byMode.local,
      fleet,
      config: { seconds, ...limits, window_ms: windowMs, concurrency, latency_ms: Number(values['latency-ms']) },
    }),
  );
}
