import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { EvalfleetError, PermanentError, RetryableError } from '@evalfleet/shared/errors';
import {
  costUsd,
  createLlmClient,
  estimatePromptTokens,
  getModel,
  loadRegistry,
  withProviderBaseUrl,
  traceOfError,
  type ChatMessage,
  type LlmClient,
  type LlmClientOptions,
  type LlmTrace,
  type Registry,
} from '@evalfleet/shared/llm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProblems } from './problems.js';
import { sampleProblemsJsonl } from './sample-problems.js';
import { startFakeProvider, type FakeProvider } from './server.js';

// The client (OpenAI SDK over a pooled undici dispatcher) against our fake provider over real HTTP on loopback.
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

const clients: LlmClient[] = [];
/** A client closed after the file's tests, as the composition root would close it. */
function clientFor(options: Partial<LlmClientOptions> = {}): LlmClient {
  const client = createLlmClient({ registry, timeoutMs: 5000, ...options });
  clients.push(client);
  return client;
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
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

function traceOf(err: EvalfleetError): LlmTrace {
  const trace = traceOfError(err);
  if (trace === undefined) throw new Error(`no trace on ${err.code}`);
  return trace;
}

describe('LLM client against the fake provider', () => {
  it('returns the right answer with usage, cost, headers and a trace', async () => {
    const client = clientFor();
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
    const client = clientFor();
    const prose = await client.complete({ model: 'chatty', messages: messagesFor('sample/1') });
    expect(prose.text).not.toMatch(/```|def /);
    expect(prose.text).toContain('is_palindrome');
    const typo = await client.complete({ model: 'typo', messages: messagesFor('sample/1') });
    expect(typo.text).toContain('def is_palindrome(text: str) -> bool\n');
  });

  it('turns a non-JSON 200 into malformed_response with the raw body and the trace', async () => {
    const client = clientFor();
    const err = await failure(client.complete({ model: 'garbled', messages: messagesFor('sample/0'), attempt: 1 }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('malformed_response');
    expect(err.details?.rawBody).toContain('<html>');
    expect(traceOf(err)).toMatchObject({ outcome: 'malformed_response', status: 200, attempt: 1, responseText: null });
    expect(traceOf(err).rawBody).toContain('<html>');
  });

  it('turns 429 into a retryable rate_limited error with the provider’s wait', async () => {
    const client = clientFor();
    const err = await failure(client.complete({ model: 'throttled', messages: messagesFor('sample/0') }));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.code).toBe('rate_limited');
    expect((err as RetryableError).retryAfterMs).toBe(2500);
    expect(traceOf(err)).toMatchObject({
      outcome: 'rate_limited',
      status: 429,
      headers: { 'retry-after': '3', 'retry-after-ms': '2500' },
      error: { code: 'rate_limited', retryable: true, retryAfterMs: 2500 },
    });
    // maxRetries is 0: the SDK never retried behind the limiter's back.
    expect(open.log().filter((a) => a.model === 'fake/flaky-429:1')).toHaveLength(1);
  });

  it('turns 500 into a retryable provider_unavailable error', async () => {
    const client = clientFor();
    const err = await failure(client.complete({ model: 'crashing', messages: messagesFor('sample/0') }));
    expect(err).toBeInstanceOf(RetryableError);
    expect(err.code).toBe('provider_unavailable');
    expect(err.details?.status).toBe(500);
  });

  it('gives up on a provider that never answers within the client timeout', async () => {
    const client = clientFor({ timeoutMs: 300 });
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
    const client = clientFor({ timeoutMs: 10_000 });
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
    const client = clientFor();
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
    const client = clientFor({ env: { FAKE_LOCKED_KEY: wrong } });
    const err = await failure(client.complete({ model: 'locked-good', messages: messagesFor('sample/0') }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('auth_failed');
    const everything = JSON.stringify({ message: err.message, details: err.details });
    expect(everything).toContain('[redacted]');
    expect(everything).not.toContain(wrong);

    const right = clientFor({ env: { FAKE_LOCKED_KEY: secret } });
    const ok = await right.complete({ model: 'locked-good', messages: messagesFor('sample/0') });
    expect(ok.text).toContain('def add(');
    expect(JSON.stringify(ok.trace)).not.toContain(secret);
    const byProvider = clientFor({ apiKeys: { locked: secret } });
    expect((await byProvider.complete({ model: 'locked-good', messages: messagesFor('sample/0') })).status).toBe(200);
  });

  it('fails with missing_api_key before any HTTP when the key variable is unset', async () => {
    const arrivals = locked.log().length;
    const client = clientFor({ env: {} });
    const err = await failure(client.complete({ model: 'locked-good', messages: messagesFor('sample/0') }));
    expect(err).toBeInstanceOf(PermanentError);
    expect(err.code).toBe('missing_api_key');
    expect(err.message).toContain('FAKE_LOCKED_KEY');
    expect(traceOf(err)).toMatchObject({ outcome: 'missing_api_key', status: null });
    expect(locked.log().length).toBe(arrivals);
  });

  it('reports finish_reason length when max tokens cut the answer', async () => {
    const client = clientFor();
    const response = await client.complete({ model: 'good', messages: messagesFor('sample/3'), maxTokens: 8 });
    expect(response.finishReason).toBe('length');
    expect(response.usage.completionTokens).toBe(8);
    expect(response.text).toHaveLength(32);
  });
});

/** A TCP relay in front of a server that counts the connections clients open through it. */
async function countingRelay(
  targetPort: number,
): Promise<{ url: string; connections(): number; close(): Promise<void> }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const relay: Server = createTcpServer((client) => {
    connections += 1;
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const { port } = relay.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        relay.close(() => resolve());
      }),
  };
}

describe('LLM client transport', () => {
  it('reuses pooled keep-alive connections across calls', async () => {
    const relay = await countingRelay(open.port);
    try {
      const client = clientFor({ registry: withProviderBaseUrl(registry, 'fake', relay.url) });
      for (let i = 0; i < 20; i += 1) {
        const response = await client.complete({ model: 'good', messages: messagesFor(`sample/${i % 10}`) });
        expect(response.status).toBe(200);
      }
      // undici hands a socket back to the pool a tick after the body ends, so a call made at once
      // may open a second one; from then on every call reuses one of the two.
      expect(relay.connections()).toBeLessThanOrEqual(2);
    } finally {
      await relay.close();
    }
  });

  it('sends provider headers, the key only when there is one, and the structured-answer format', async () => {
    const seen: { headers: IncomingHttpHeaders; body: Record<string, unknown> }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        seen.push({
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        res.writeHead(200, { 'content-type': 'application/json', 'x-ratelimit-remaining-requests': '41' });
        res.end(
          JSON.stringify({
            choices: [{ message: { role: 'assistant', content: '{"ok":true}' }, finish_reason: 'stop' }],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    try {
      const local = loadRegistry(`
providers:
  local: { base_url: ${url}, api_key_env: null, headers: { X-Title: evalfleet } }
  keyed: { base_url: ${url}, api_key_env: KEYED_KEY }
models:
  plain: { provider: local, model: gpt-4o-mini, max_output_tokens: 64 }
  keyed: { provider: keyed, model: some-model }
`);
      const client = clientFor({ registry: local, env: { KEYED_KEY: 'sk-keyed-0123456789' } });
      const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
      const answer = await client.complete({
        model: 'plain',
        messages: messagesFor('sample/0'),
        seed: 4,
        temperature: 0,
        responseFormat: { type: 'json_schema', name: 'check', schema, strict: true },
      });
      expect(answer.text).toBe('{"ok":true}');
      expect(answer.headers).toEqual({ 'x-ratelimit-remaining-requests': '41' });
      // No usage reported: counted with the model's tokenizer (o200k_base for gpt-4o-mini).
      expect(answer.usage).toMatchObject({ completionTokens: 5, estimated: true });
      await client.complete({ model: 'keyed', messages: messagesFor('sample/0') });

      const [plain, keyed] = seen;
      expect(plain?.headers['x-title']).toBe('evalfleet');
      expect(plain?.headers.authorization).toBeUndefined();
      expect(plain?.body).toMatchObject({
        model: 'gpt-4o-mini',
        max_tokens: 64,
        seed: 4,
        temperature: 0,
        response_format: { type: 'json_schema', json_schema: { name: 'check', schema, strict: true } },
      });
      expect(keyed?.headers.authorization).toBe('Bearer sk-keyed-0123456789');
      expect(keyed?.headers['x-title']).toBeUndefined();
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
