/**
 * A generator-like load process for the rate-limit benchmark and the fleet tests: `--concurrency`
 * lanes each take a job (a prompt of random size and a random max_tokens), pass the limiter, call the
 * provider through the real LLM client, feed the answer back and reconcile, and retry 429s and long
 * waits after the delay they ask for, as the generator does through its delay queues.
 *
 *   node --conditions=evalfleet-source --import ./bench/lib/register-ts.ts bench/ratelimit/worker.ts \
 *     --mode fleet --provider-url http://127.0.0.1:8089/v1 --rpm 600 --tpm 90000 --seconds 60
 *
 * Modes: none (no limiter), local (this process's own scope at limit / --processes), fleet (the shared
 * scope). Stdout: JSON lines, `progress` every --progress-ms and one `done` at the end.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { EvalfleetError, RetryableError } from '@evalfleet/shared/errors';
import {
  createLlmClient,
  createLocalLimiter,
  estimatePromptTokens,
  parseRegistry,
  type LlmTrace,
} from '@evalfleet/shared/llm';
import {
  createFleetLimiter,
  scopeForModel,
  type FleetLimiter,
  type RateLimitScope,
  type Reservation,
} from '@evalfleet/shared/ratelimit';
import { createRedis } from '@evalfleet/shared/redis';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'fleet' },
    'provider-url': { type: 'string' },
    'redis-url': { type: 'string', default: 'redis://127.0.0.1:6379' },
    prefix: { type: 'string', default: 'evalfleet-bench:' },
    index: { type: 'string', default: '0' },
    processes: { type: 'string', default: '1' },
    rpm: { type: 'string' },
    tpm: { type: 'string' },
    'period-ms': { type: 'string', default: '60000' },
    'margin-ms': { type: 'string' },
    'heartbeat-ms': { type: 'string' },
    'warmup-ms': { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    seconds: { type: 'string' },
    requests: { type: 'string' },
    'latency-ms': { type: 'string', default: '0' },
    'max-wait-ms': { type: 'string', default: '30000' },
    'prompt-min': { type: 'string', default: '20' },
    'prompt-max': { type: 'string', default: '200' },
    'max-tokens': { type: 'string', default: '16,32,64,128,256' },
    seed: { type: 'string', default: '1' },
    'progress-ms': { type: 'string', default: '2000' },
  },
});

const mode = values.mode;
if (mode !== 'none' && mode !== 'local' && mode !== 'fleet') throw new Error(`--mode must be none, local or fleet`);
const providerUrl = values['provider-url'];
if (providerUrl === undefined) throw new Error('--provider-url is required');
const index = Number(values.index);
const optionalNumber = (text: string | undefined): number | undefined =>
  text === undefined ? undefined : Number(text);
const rpm = optionalNumber(values.rpm);
const tpm = optionalNumber(values.tpm);
const seconds = optionalNumber(values.seconds);
const totalJobs = optionalNumber(values.requests);
if ((seconds === undefined) === (totalJobs === undefined)) throw new Error('give exactly one of --seconds, --requests');
const maxTokenChoices = values['max-tokens'].split(',').map(Number);
const promptMin = Number(values['prompt-min']);
const promptMax = Number(values['prompt-max']);

// A small seeded generator, so every run of a mode sends the same mix of jobs.
let seed = (Number(values.seed) * 7919 + index * 104_729) >>> 0;
function random(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
}

const registry = parseRegistry({
  providers: { fake: { base_url: providerUrl } },
  models: {
    bench: {
      provider: 'fake',
      model: `fake/slow:${values['latency-ms']}`,
      ...(rpm === undefined ? {} : { rpm }),
      ...(tpm === undefined ? {} : { tpm }),
      max_output_tokens: Math.max(...maxTokenChoices),
    },
  },
});
const llm = createLlmClient({ registry, timeoutMs: 60_000 });
const processes = Number(values.processes);
const share = (limit: number | undefined): number | undefined =>
  limit === undefined ? undefined : Math.max(1, Math.floor(limit / processes));
const scope: RateLimitScope =
  mode === 'local'
    ? { key: `model:bench:p${index}`, provider: 'fake', rpm: share(rpm), tpm: share(tpm) }
    : scopeForModel(registry, 'bench');

const redis = mode === 'none' ? undefined : createRedis({ url: values['redis-url'], keyPrefix: values.prefix });
const limiter: FleetLimiter | undefined =
  redis === undefined
    ? undefined
    : createFleetLimiter({
        redis,
        periodMs: Number(values['period-ms']),
        ...(values['margin-ms'] === undefined ? {} : { marginMs: Number(values['margin-ms']) }),
        ...(values['heartbeat-ms'] === undefined ? {} : { heartbeatMs: Number(values['heartbeat-ms']) }),
        ...(values['warmup-ms'] === undefined ? {} : { warmupMs: Number(values['warmup-ms']) }),
      });
const maxWaitMs = Number(values['max-wait-ms']);

const stats = {
  index,
  mode,
  jobs: 0,
  ok: 0,
  rateLimited: 0,
  errors: 0,
  deferred: 0,
  redisUnavailable: 0,
  /** Jobs dropped because the run's time was up (only with --seconds). */
  abandoned: 0,
  tokens: 0,
  waitedMs: 0,
};

function traceOf(err: unknown): LlmTrace | undefined {
  const trace = err instanceof EvalfleetError ? err.details?.trace : undefined;
  return typeof trace === 'object' && trace !== null ? (trace as LlmTrace) : undefined;
}

function job(): { content: string; maxTokens: number; reserve: number } {
  const promptTokens = promptMin + Math.floor(random() * (promptMax - promptMin + 1));
  // About four characters a token, minus the chat framing estimatePromptTokens adds.
  const content = 'lorem ipsum '.repeat(Math.ceil(promptTokens / 3)).slice(0, Math.max(1, (promptTokens - 7) * 4));
  const maxTokens = maxTokenChoices[Math.floor(random() * maxTokenChoices.length)]!;
  return { content, maxTokens, reserve: estimatePromptTokens([{ content }]) + maxTokens };
}

const started = performance.now();
let begun = 0;
/** Milliseconds left in a --seconds run (Infinity with --requests). */
function remainingMs(): number {
  return seconds === undefined ? Infinity : seconds * 1000 - (performance.now() - started);
}
function moreWork(): boolean {
  if (totalJobs !== undefined) return begun < totalJobs;
  return remainingMs() > 0;
}
/** Waits like a delay queue would, but not past the end of a timed run. */
async function backOff(ms: number): Promise<void> {
  await sleep(Math.max(0, Math.min(ms * (1 + 0.1 * random()), remainingMs())));
}

async function runJob(): Promise<void> {
  const { content, maxTokens, reserve } = job();
  stats.jobs += 1;
  for (;;) {
    if (remainingMs() <= 0) {
      stats.abandoned += 1;
      return;
    }
    let reservation: Reservation | undefined;
    if (limiter !== undefined) {
      try {
        reservation = await limiter.acquire(scope, { tokens: reserve, maxWaitMs: Math.min(maxWaitMs, remainingMs()) });
        stats.waitedMs += reservation.waitedMs;
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        // What the delay queue would do: the message comes back later.
        stats.deferred += 1;
        if (err.code === 'redis_unavailable') stats.redisUnavailable += 1;
        await backOff(err.retryAfterMs ?? 1000);
        continue;
      }
    }
    try {
      const response = await llm.complete({ model: 'bench', messages: [{ role: 'user', content }], maxTokens });
      await reservation?.reconcile(response.usage.totalTokens);
      await limiter?.observe(scope, {
        status: response.status,
        headers: response.headers,
        latencyMs: response.latencyMs,
      });
      stats.ok += 1;
      stats.tokens += response.usage.totalTokens;
      return;
    } catch (err) {
      const trace = traceOf(err);
      if (trace?.status === null || trace === undefined) await reservation?.cancel();
      else {
        await reservation?.reconcile(trace.usage?.totalTokens ?? trace.promptTokensEstimate);
        await limiter?.observe(scope, { status: trace.status, headers: trace.headers, latencyMs: trace.latencyMs });
      }
      if (err instanceof RetryableError && err.code === 'rate_limited') {
        stats.rateLimited += 1;
        await backOff(err.retryAfterMs ?? 1000);
        continue;
      }
      stats.errors += 1;
      process.stderr.write(`worker ${index}: ${err instanceof Error ? err.message : String(err)}\n`);
      return;
    }
  }
}

function report(type: 'progress' | 'done'): void {
  process.stdout.write(`${JSON.stringify({ type, ...stats, elapsedMs: Math.round(performance.now() - started) })}\n`);
}

const cap = createLocalLimiter({ maxConcurrent: Number(values.concurrency) });
const progress = setInterval(() => report('progress'), Number(values['progress-ms']));
await Promise.all(
  Array.from({ length: Number(values.concurrency) }, async () => {
    while (moreWork()) {
      begun += 1;
      await cap.run(runJob);
    }
  }),
);
clearInterval(progress);
await limiter?.close();
redis?.disconnect();
report('done');
