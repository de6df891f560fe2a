// The model-calling capability end to end: our fake provider over real HTTP, the fleet limiter
// and run budgets in a real Redis, the response cache and traces in a real (filesystem) store.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Registry as MetricsRegistry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EvalfleetError, PermanentError, RetryableError } from '@evalfleet/shared/errors';
import {
  costUsd,
  createModelCaller,
  estimatePromptTokens,
  getModel,
  loadRegistry,
  withProviderBaseUrl,
  type CallRequest,
  type ChatMessage,
  type LlmTrace,
  type ModelCaller,
  type ModelCallerOptions,
  type Registry,
} from '@evalfleet/shared/llm';
import { createLogger } from '@evalfleet/shared/logger';
import { createRedis } from '@evalfleet/shared/redis';
import { runKeys } from '@evalfleet/shared/runs';
import { FsArtifactStore } from '@evalfleet/shared/storage';
import { sampleProblemsJsonl } from './sample-problems.js';
import { startFakeProvider, type FakeProvider } from './server.js';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const registryText = `
providers:
  fake: { base_url: http://127.0.0.1:9/v1, api_key_env: null }
  quota: { base_url: http://127.0.0.1:9/v1, api_key_env: null }
models:
  good: { provider: fake, model: fake/always-right, input_per_mtok: 1, output_per_mtok: 2, max_output_tokens: 256 }
  garbled: { provider: fake, model: fake/malformed }
  throttled: { provider: fake, model: fake/flaky-429:1 }
  stuck: { provider: fake, model: fake/timeout }
  slow: { provider: fake, model: fake/slow:300 }
  scarce: { provider: quota, model: fake/always-right }
`;

let open: FakeProvider;
let quota: FakeProvider;
let registry: Registry;
let raw: Redis;

beforeAll(async () => {
  open = await startFakeProvider({ datasetText: sampleProblemsJsonl, retryAfterMs: 2500 });
  // Two requests a minute: its x-ratelimit-* headers say "exhausted" after the second.
  quota = await startFakeProvider({ datasetText: sampleProblemsJsonl, rpm: 2 });
  registry = withProviderBaseUrl(loadRegistry(registryText), 'fake', open.url);
  registry = withProviderBaseUrl(registry, 'quota', quota.url);
  raw = new Redis(redisUrl);
});
afterAll(async () => {
  await Promise.all([open.close(), quota.close()]);
  await raw.quit();
});

let prefix: string;
let dir: string;
let store: FsArtifactStore;
let metrics: MetricsRegistry;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  prefix = `evalfleet-test:${randomUUID()}:`;
  dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-caller-'));
  store = new FsArtifactStore({ root: dir });
  await store.ensureReady();
  metrics = new MetricsRegistry();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  const keys = await raw.keys(`${prefix}*`);
  if (keys.length > 0) await raw.del(...keys);
  await rm(dir, { recursive: true, force: true });
});

/** A caller as a service builds it, with its own Redis connection; closed after the test. */
function makeCaller(options: ModelCallerOptions = {}): ModelCaller {
  const redis = createRedis({ url: redisUrl, keyPrefix: prefix });
  const caller = createModelCaller({
    registry,
    env: {},
    store,
    redis,
    logger: createLogger({ service: 'test' }, { level: 'silent' }),
    metricsRegistry: metrics,
    options: { timeoutMs: 5000, ...options },
  });
  cleanups.push(async () => {
    await caller.close();
    redis.disconnect();
  });
  return caller;
}

const messagesFor = (taskId: string): ChatMessage[] => [
  { role: 'system', content: 'You write correct Python. Answer with one fenced code block.' },
  { role: 'user', content: `Task: ${taskId}\n\nComplete the function described in the task.` },
];

let jobs = 0;
function request(model: string, overrides: Partial<CallRequest> = {}): CallRequest {
  jobs += 1;
  return {
    runId: 'run-1',
    jobId: `job/${jobs}`,
    attempt: 1,
    model,
    messages: messagesFor('sample/2'),
    params: { temperature: 0.2, maxTokens: 256, sampleIndex: 0 },
    ...overrides,
  };
}

async function storedTrace(req: CallRequest): Promise<LlmTrace> {
  return JSON.parse((await store.get(runKeys.trace(req.runId, req.jobId, req.attempt))).toString('utf8')) as LlmTrace;
}

async function failure(promise: Promise<unknown>): Promise<EvalfleetError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(EvalfleetError);
    return err as EvalfleetError;
  }
  throw new Error('expected the call to fail');
}

const arrivals = (provider: FakeProvider, model: string): number =>
  provider.log().filter((a) => a.model === model).length;

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const metric = metrics.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want));
  return match?.value ?? 0;
}

describe('model caller', () => {
  it('answers, stores the attempt’s trace and counts the call', async () => {
    const caller = makeCaller();
    const req = request('good', { attempt: 2 });
    const outcome = await caller.call(req);
    if (outcome.kind !== 'answer') throw new Error(`expected an answer, got ${outcome.kind}`);
    const { answer } = outcome;
    expect(answer).toMatchObject({
      cached: false,
      finishReason: 'stop',
      provider: 'fake',
      remoteModel: 'fake/always-right',
    });
    expect(answer.text).toContain('```python');
    expect(answer.costUsd).toBe(costUsd(getModel(registry, 'good'), answer.usage));
    expect(answer.traceKey).toBe(runKeys.trace('run-1', req.jobId, 2));
    expect(await storedTrace(req)).toMatchObject({
      outcome: 'ok',
      status: 200,
      attempt: 2,
      runId: 'run-1',
      jobId: req.jobId,
      responseText: answer.text,
      usage: answer.usage,
      request: { maxTokens: 256, seed: 0, temperature: 0.2 },
    });
    expect(await metricValue('evalfleet_llm_requests_total', { provider: 'fake', model: 'good', outcome: 'ok' })).toBe(
      1,
    );
    expect(await metricValue('evalfleet_llm_cache_total', { model: 'good', result: 'miss' })).toBe(1);
    expect(await metricValue('evalfleet_llm_tokens_total', { model: 'good', direction: 'completion' })).toBe(
      answer.usage.completionTokens,
    );
  });

  it('answers a repeated call from the cache without a provider call; noCache calls again', async () => {
    const caller = makeCaller();
    const before = arrivals(open, 'fake/always-right');
    const first = await caller.call(request('good'));
    const again = request('good');
    const second = await caller.call(again);
    expect(arrivals(open, 'fake/always-right')).toBe(before + 1);
    if (first.kind !== 'answer' || second.kind !== 'answer') throw new Error('expected answers');
    expect(second.answer).toMatchObject({ cached: true, costUsd: 0, latencyMs: 0, text: first.answer.text });
    expect(await storedTrace(again)).toMatchObject({ cached: true, outcome: 'ok', status: null });
    expect(await metricValue('evalfleet_llm_cache_total', { model: 'good', result: 'hit' })).toBe(1);
    expect(await metricValue('evalfleet_llm_requests_total', { model: 'good', outcome: 'ok' })).toBe(1);

    const forced = await caller.call(request('good', { noCache: true }));
    expect(forced.kind === 'answer' && forced.answer.cached).toBe(false);
    const otherSample = await caller.call(
      request('good', { params: { temperature: 0.2, maxTokens: 256, sampleIndex: 1 } }),
    );
    expect(otherSample.kind === 'answer' && otherSample.answer.cached).toBe(false);
    expect(arrivals(open, 'fake/always-right')).toBe(before + 3);
  });

  it('turns a 429 into a retryable error with the provider’s wait and pauses the scope fleet-wide', async () => {
    const caller = makeCaller({ rateLimitMaxWaitMs: 500 });
    const req = request('throttled');
    const err = await failure(caller.call(req));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err).toMatchObject({ code: 'rate_limited', retryAfterMs: 2500 });
    expect(await storedTrace(req)).toMatchObject({
      outcome: 'rate_limited',
      status: 429,
      headers: { 'retry-after-ms': '2500' },
      error: { code: 'rate_limited', retryable: true, retryAfterMs: 2500 },
    });
    expect(await metricValue('evalfleet_ratelimit_provider_429_total', { provider: 'fake' })).toBe(1);

    // The pause holds the next call back before it reaches the provider, and says for how long.
    const next = request('throttled');
    const held = await failure(caller.call(next));
    expect(held).toBeInstanceOf(RetryableError);
    expect(held.code).toBe('rate_limited_wait');
    expect(arrivals(open, 'fake/flaky-429:1')).toBe(1);
    expect(await storedTrace(next)).toMatchObject({ outcome: 'rate_limited_wait', status: null });
  });

  it('feeds the provider’s x-ratelimit headers to the fleet limiter', async () => {
    const caller = makeCaller({ rateLimitMaxWaitMs: 500 });
    quota.reset();
    expect((await caller.call(request('scarce'))).kind).toBe('answer');
    expect((await caller.call(request('scarce', { noCache: true }))).kind).toBe('answer');
    // The second answer said remaining-requests 0 until the window resets: nobody calls until then.
    const err = await failure(caller.call(request('scarce', { noCache: true })));
    expect(err.code).toBe('rate_limited_wait');
    expect(quota.log()).toHaveLength(2);
  });

  it('throws malformed_response as a permanent error and keeps the raw body in the trace', async () => {
    const caller = makeCaller();
    const req = request('garbled');
    const err = await failure(caller.call(req));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('malformed_response');
    const trace = await storedTrace(req);
    expect(trace).toMatchObject({ outcome: 'malformed_response', status: 200, responseText: null });
    expect(trace.rawBody).toContain('<html>');
    expect(await metricValue('evalfleet_llm_requests_total', { model: 'garbled', outcome: 'malformed_response' })).toBe(
      1,
    );
  });

  it('stores the trace of a call that timed out', async () => {
    const caller = makeCaller({ timeoutMs: 300 });
    const req = request('stuck');
    const err = await failure(caller.call(req));
    expect(err).toMatchObject({ code: 'provider_timeout', retryable: true });
    expect(await storedTrace(req)).toMatchObject({ outcome: 'provider_timeout', status: null, attempt: 1 });
  });

  it('stops calling at the run budget and records what was really spent', async () => {
    const caller = makeCaller();
    const messages = messagesFor('sample/4');
    const worstCase = costUsd(getModel(registry, 'good'), {
      promptTokens: estimatePromptTokens(messages),
      completionTokens: 256,
    });
    const before = arrivals(open, 'fake/always-right');
    const tooSmall = await caller.call(request('good', { runId: 'poor', messages, budgetUsd: worstCase - 2e-6 }));
    expect(tooSmall).toEqual({ kind: 'budget_exhausted', spentUsd: 0 });
    expect(arrivals(open, 'fake/always-right')).toBe(before);

    // Room for one worst case: the first call fits, its actual cost is spent, the second does not fit.
    const budgetUsd = worstCase + 1e-6;
    const first = await caller.call(request('good', { runId: 'frugal', messages, budgetUsd }));
    if (first.kind !== 'answer') throw new Error('expected an answer');
    expect(first.answer.costUsd).toBeLessThan(worstCase);
    const second = await caller.call(request('good', { runId: 'frugal', messages, budgetUsd, noCache: true }));
    expect(second.kind).toBe('budget_exhausted');
    expect(second.kind === 'budget_exhausted' && second.spentUsd).toBeCloseTo(first.answer.costUsd, 6);
    expect(arrivals(open, 'fake/always-right')).toBe(before + 1);
  });

  it('keeps at most maxConcurrent calls in flight in this process', async () => {
    const caller = makeCaller({ maxConcurrent: 2, rateLimits: false });
    const before = open.log().length;
    const outcomes = await Promise.all(
      [0, 1, 2, 3].map((i) => caller.call(request('slow', { messages: messagesFor(`sample/${i}`) }))),
    );
    expect(outcomes.map((o) => o.kind)).toEqual(['answer', 'answer', 'answer', 'answer']);
    const times = open
      .log()
      .slice(before)
      .map((a) => a.timeMs)
      .sort((a, b) => a - b);
    // Each answer takes 300 ms: the third and fourth calls could only start once a slot was free.
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(250);
    expect(times[3]! - times[1]!).toBeGreaterThanOrEqual(250);
  });

  it('close waits for calls in flight and then refuses new ones', async () => {
    const caller = makeCaller({ rateLimits: false });
    let settled = false;
    const inFlight = caller.call(request('slow')).then((o) => {
      settled = true;
      return o;
    });
    await expect.poll(() => arrivals(open, 'fake/slow:300')).toBeGreaterThan(0);
    await caller.close();
    expect(settled).toBe(true);
    expect((await inFlight).kind).toBe('answer');
    const err = await failure(caller.call(request('good')));
    expect(err).toMatchObject({ code: 'shutting_down', retryable: true });
  });
});
