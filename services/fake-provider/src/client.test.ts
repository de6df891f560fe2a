import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EvalfleetError, PermanentError, RetryableError } from '@evalfleet/shared/errors';
import {
  costUsd,
  createLlmClient,
  estimatePromptTokens,
  getModel,
  loadRegistry,
  withProviderBaseUrl,
  type ChatMessage,
  type LlmTrace,
  type Registry,
} from '@evalfleet/shared/llm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProblems } from './problems.js';
import { sampleProblemsJsonl } from './sample-problems.js';
import { startFakeProvider, type FakeProvider } from './server.js';

// The client against our fake provider over real HTTP on loopback.
const registryText = `
providers:
  fake: { base_url: http://127.0.0.1:9/v1, api_key_env: null }
  locked: { base_url: http://127.0.0.1:9/v1, api_key_env: FAKE_LOCKED_KEY }
  gone: { base_url: http://127.0.0.1:9/v1 }
models:
  good: { provider: fake, model: fake/always-right, input_per_mtok: 0.5, output_per_mtok: 1.5, max_output_tokens: 512 }
  chatty: { provider: fake, model: fake/prose }
  garbled: { provider: fake, model: fake/malformed }
  throttled: { provider: fake, model: fake/flaky-429:1 }
  crashing: { provider: fake, model: fake/flaky-500:1 }
  stuck: { provider: fake, model: fake/timeout }
  typo: { provider: fake, model: fake/syntax-error }
  missing: { provider: fake, model: fake/does-not-exist }
  locked-good: { provider: locked, model: fake/always-right }
  unreachable: { provider: gone, model: fake/always-right }
`;

const secret = 'sk-fake-locked-0123456789';
const problems = parseProblems(sampleProblemsJsonl);
let open: FakeProvider;
let locked: FakeProvider;
let registry: Registry;

beforeAll(async () => {
  open = await startFakeProvider({ datasetText: sampleProblemsJsonl, retryAfterMs: 2500 });
  locked = await startFakeProvider({ datasetText: sampleProblemsJsonl, apiKey: secret });
  // A port that was just free and is closed again: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));

  registry = loadRegistry(registryText);
  registry = withProviderBaseUrl(registry, 'fake', open.url);
  registry = withProviderBaseUrl(registry, 'locked', locked.url);
  registry = withProviderBaseUrl(registry, 'gone', `http://127.0.0.1:${closedPort}/v1`);
});

afterAll(async () => {
  await Promise.all([open.close(), locked.close()]);
});

const messagesFor = (taskId: string): ChatMessage[] => [
  { role: 'system', content: 'You write correct Python. Answer with one fenced code block.' },
  { role: 'user', content: `Task: ${taskId}\n\nComplete the function described in the task.` },
];

async function failure(promise: Promise<unknown>): Promise<EvalfleetError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(EvalfleetError);
    return err as EvalfleetError;
  }
  throw new Error('expected the call to fail');
}

const traceOf = (err: EvalfleetError): LlmTrace => err.details?.trace as LlmTrace;

describe('LLM client against the fake provider', () => {
  it('returns the right answer with usage, cost, headers and a trace', async () => {
    const client = createLlmClient({ registry, timeoutMs: 5000 });
    const messages = messagesFor('sample/5');
    const response = await client.complete({ model: 'good', messages, temperature: 0.2, seed: 7, attempt: 2 });
    expect(response.text).toContain(problems[5]!.solution.trimEnd());
    expect(response.text).toContain('```python');
    expect(response).toMatchObject({
      finishReason: 'stop',
      status: 200,
      provider: 'fake',
      model: 'good',
      remoteModel: 'fake/always-right',
      attempt: 2,
    });
    const promptTokens = estimatePromptTokens(messages);
    const completionTokens = Math.ceil(response.text.length / 4);
    expect(response.usage).toEqual({ promptTokens, completionTokens, totalTokens: promptTokens + completionTokens });
    expect(response.costUsd).toBe(costUsd(getModel(registry, 'good'), response.usage));
    expect(response.costUsd).toBeCloseTo((promptTokens * 0.5 + completionTokens * 1.5) / 1e6, 12);
    expect(response.latencyMs).toBeGreaterThanOrEqual(0);

    const { trace } = response;
    expect(trace).toMatchObject({
      outcome: 'ok',
      status: 200,
      attempt: 2,
      model: 'good',
      provider: 'fake',
      responseText: response.text,
      finishReason: 'stop',
      usage: response.usage,
      costUsd: response.costUsd,
      promptTokensEstimate: promptTokens,
      request: { messages, temperature: 0.2, seed: 7, maxTokens: 512 },
    });
    expect(Date.parse(trace.finishedAt)).toBeGreaterThanOrEqual(Date.parse(trace.startedAt));
    expect(open.log().at(-1)).toMatchObject({
      model: 'fake/always-right',
      maxTokens: 512,
      status: 200,
      taskId: 'sample/5',
    });
  });

  it('returns prose and broken code as text: judging them is the caller’s job', async () => {
    const client = createLlmClient({ registry, timeoutMs: 5000 });
    const prose = await client.complete({ model: 'chatty', messages: messagesFor('sample/1') });
    expect(prose.text).not.toMatch(/```|def /);
    expect(prose.text).toContain('is_palindrome');
    const typo = await client.complete({ model: 'typo', messages: messagesFor('sample/1') });
    expect(typo.text).toContain('def is_palindrome(text: str) -> bool\n');
  });

  it('turns a non-JSON 200 into malformed_response with the raw body and the trace', async () => {
    const client = createLlmClient({ registry, timeoutMs: 5000 });
    const err = await failure(client.complete({ model: 'garbled', messages: messagesFor('sample/0'), attempt: 1 }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('malformed_response');
    expect(err.details?.rawBody).toContain('<html>');
    expect(traceOf(err)).toMatchObject({ outcome: 'malformed_response', status: 200, attempt: 1, responseText: null });
    expect(traceOf(err).rawBody).toContain('<html>');
  });

  it('turns 429 into a retryable rate_limited error with the provider’s wait', async () => {
    const client = createLlmClient({ registry, timeoutMs: 5000 });
    const err = await failure(client.complete({ model: 'throttled', messages: messagesFor('sample/0') }));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.code).toBe('rate_limited');
    expect((err as RetryableError).retryAfterMs).toBe(2500);
    expect(traceOf(err)).toMatchObject({
      outcome: 'rate_limited',
      status: 429,
      headers: { 'retry-after': '3', 'retry-after-ms': '2500' },
    });
  });

  it('turns 500 into a retryable provider_unavailable error', async () => {
    const client = createLlmClient({ registry, timeoutMs: 5000 });
    const err = await failure(client.complete({ model: 'crashing', messages: messagesFor('sample/0') }));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.code).toBe('provider_unavailable');
    expect(err.details?.status).toBe(500);
  });

  it('gives up on a provider that never answers within the client timeout', async () => {
    const client = createLlmClient({ registry, timeoutMs: 300 });
    const before = performance.now();
    const err = await failure(client.complete({ model: 'stuck', messages: messagesFor('sample/0') }));
    const elapsed = performance.now() - before;
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.code).toBe('provider_timeout');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(5000);
    expect(traceOf(err)).toMatchObject({ outcome: 'provider_timeout', status: null });
  });

  it('reports a caller abort as request_aborted, not a timeout', async () => {
    const client = createLlmClient({ registry, timeoutMs: 10_000 });
    const controller = new AbortController();
    const hanging = (): number => open.log().filter((a) => a.model === 'fake/timeout' && a.status === null).length;
    const before = hanging();
    const call = failure(
      client.complete({ model: 'stuck', messages: messagesFor('sample/0'), signal: controller.signal }),
    );
    await expect.poll(hanging).toBe(before + 1);
    controller.abort();
    const err = await call;
    expect(err.code).toBe('request_aborted');
  });

  it('maps an unknown remote model to model_not_found and a dead port to provider_unavailable', async () => {
    const client = createLlmClient({ registry, timeoutMs: 5000 });
    const missing = await failure(client.complete({ model: 'missing', messages: messagesFor('sample/0') }));
    expect(missing).toBeInstanceOf(PermanentError);
    expect(missing.code).toBe('model_not_found');
    const dead = await failure(client.complete({ model: 'unreachable', messages: messagesFor('sample/0') }));
    expect(dead).toBeInstanceOf(RetryableError);
    expect(dead.code).toBe('provider_unavailable');
    expect(traceOf(dead).status).toBeNull();
  });

  it('fails with auth_failed on a wrong key and never echoes the key', async () => {
    const wrong = 'sk-wrong-key-abcdef';
    const client = createLlmClient({ registry, env: { FAKE_LOCKED_KEY: wrong }, timeoutMs: 5000 });
    const err = await failure(client.complete({ model: 'locked-good', messages: messagesFor('sample/0') }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('auth_failed');
    const everything = JSON.stringify({ message: err.message, details: err.details });
    expect(everything).not.toContain(wrong);

    const right = createLlmClient({ registry, env: { FAKE_LOCKED_KEY: secret }, timeoutMs: 5000 });
    const ok = await right.complete({ model: 'locked-good', messages: messagesFor('sample/0') });
    expect(ok.text).toContain('def add(');
    expect(JSON.stringify(ok.trace)).not.toContain(secret);
    const byProvider = createLlmClient({ registry, apiKeys: { locked: secret }, timeoutMs: 5000 });
    expect((await byProvider.complete({ model: 'locked-good', messages: messagesFor('sample/0') })).status).toBe(200);
  });

  it('fails with missing_api_key before any HTTP when the key variable is unset', async () => {
    const arrivals = locked.log().length;
    const client = createLlmClient({ registry, env: {}, timeoutMs: 5000 });
    const err = await failure(client.complete({ model: 'locked-good', messages: messagesFor('sample/0') }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('missing_api_key');
    expect(err.message).toContain('FAKE_LOCKED_KEY');
    expect(traceOf(err)).toMatchObject({ outcome: 'missing_api_key', status: null });
    expect(locked.log().length).toBe(arrivals);
  });

  it('reports finish_reason length when max tokens cut the answer', async () => {
    const client = createLlmClient({ registry, timeoutMs: 5000 });
    const response = await client.complete({ model: 'good', messages: messagesFor('sample/3'), maxTokens: 8 });
    expect(response.finishReason).toBe('length');
    expect(response.usage.completionTokens).toBe(8);
    expect(response.text).toHaveLength(32);
  });
});
