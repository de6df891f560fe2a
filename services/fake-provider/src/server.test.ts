import { estimatePromptTokens } from '@evalfleet/shared/llm';
import { afterEach, describe, expect, it } from 'vitest';
import { parseProblems } from './problems.js';
import { sampleProblemsJsonl } from './sample-problems.js';
import { startFakeProvider, type FakeProvider, type FakeProviderOptions } from './server.js';

const problems = parseProblems(sampleProblemsJsonl);
const started: FakeProvider[] = [];

async function start(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  const provider = await startFakeProvider({ datasetText: sampleProblemsJsonl, ...options });
  started.push(provider);
  return provider;
}

afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.close()));
});

function chat(
  provider: FakeProvider,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${provider.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

const ask = (taskId: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  model: 'fake/always-right',
  messages: [{ role: 'user', content: `Task: ${taskId}\nWrite the function.` }],
  ...extra,
});

interface Completion {
  id: string;
  object: string;
  created: number;
  model: string;
  choices: { index: number; message: { role: string; content: string }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

describe('fake provider HTTP surface', () => {
  it('serves health, models and a 404 for other routes', async () => {
    const provider = await start();
    expect(provider.url).toBe(`http://127.0.0.1:${provider.port}/v1`);
    const health = await fetch(new URL('/healthz', provider.url));
    expect(await health.json()).toEqual({ status: 'ok' });
    const models = (await (await fetch(`${provider.url}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain('fake/always-right');
    expect((await fetch(`${provider.url}/embeddings`, { method: 'POST' })).status).toBe(404);
  });

  it('answers in the OpenAI chat.completion shape with estimated usage', async () => {
    const provider = await start();
    const request = ask('sample/3', { seed: 1 });
    const res = await chat(provider, request);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Completion;
    expect(body).toMatchObject({ object: 'chat.completion', model: 'fake/always-right' });
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.created).toBeGreaterThan(1_600_000_000);
    const [choice] = body.choices;
    expect(choice).toMatchObject({ index: 0, finish_reason: 'stop', message: { role: 'assistant' } });
    expect(choice?.message.content).toContain(problems[3]!.solution.trimEnd());
    const messages = request.messages as { content: string }[];
    expect(body.usage).toEqual({
      prompt_tokens: estimatePromptTokens(messages),
      completion_tokens: Math.ceil(choice!.message.content.length / 4),
      total_tokens: estimatePromptTokens(messages) + Math.ceil(choice!.message.content.length / 4),
    });
  });

  it('rejects bad requests and unknown models the OpenAI way', async () => {
    const provider = await start();
    const bad = await fetch(`${provider.url}/chat/completions`, { method: 'POST', body: '{nope' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
    const unknown = await chat(provider, ask('sample/0', { model: 'gpt-4o' }));
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('model_not_found');
  });

  it('maps aliases to behaviours and truncates at max_tokens', async () => {
    const provider = await start({ aliases: { 'gpt-4o': 'fake/prose' } });
    const prose = (await (await chat(provider, ask('sample/0', { model: 'gpt-4o' }))).json()) as Completion;
    expect(prose.choices[0]?.message.content).not.toContain('```');
    const short = (await (await chat(provider, ask('sample/0', { max_tokens: 3 }))).json()) as Completion;
    expect(short.choices[0]).toMatchObject({ finish_reason: 'length' });
    expect(short.choices[0]?.message.content).toHaveLength(12);
    expect(short.usage.completion_tokens).toBe(3);
  });

  it('requires the bearer token on /v1 when configured', async () => {
    const provider = await start({ apiKey: 'sk-fake-123' });
    expect((await fetch(`${provider.url}/models`)).status).toBe(401);
    expect((await chat(provider, ask('sample/0'), { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await chat(provider, ask('sample/0'), { authorization: 'Bearer sk-fake-123' })).status).toBe(200);
    expect((await fetch(new URL('/healthz', provider.url))).status).toBe(200);
  });

  it('logs arrivals with model, token estimate, max_tokens and status; reset clears them', async () => {
    let clock = 1_000_000;
    const provider = await start({ now: () => clock });
    await chat(provider, ask('sample/1', { max_tokens: 64 }));
    clock += 5;
    await chat(provider, ask('sample/1', { model: 'fake/nope' }));
    const log = await (await fetch(new URL('/_log', provider.url))).json();
    expect(log).toEqual(provider.log());
    const promptTokens = estimatePromptTokens([{ content: 'Task: sample/1\nWrite the function.' }]);
    expect(provider.log()).toEqual([
      { timeMs: 1_000_000, model: 'fake/always-right', promptTokens, maxTokens: 64, status: 200, taskId: 'sample/1' },
      { timeMs: 1_000_005, model: 'fake/nope', promptTokens, maxTokens: null, status: 404, taskId: 'sample/1' },
    ]);
    provider.reset();
    expect(provider.log()).toEqual([]);
  });
});

describe('fake provider answers', () => {
  it('is right on exactly round(fraction × tasks), reproducibly per seed', async () => {
    const provider = await start({ seed: 'fixed' });
    const rightTasks = async (seed: number): Promise<string[]> => {
      const right: string[] = [];
      for (const problem of problems) {
        const body = (await (
          await chat(provider, ask(problem.taskId, { model: 'fake/right-fraction:0.6', seed }))
        ).json()) as Completion;
        const content = body.choices[0]!.message.content;
        expect(content).toMatch(new RegExp(`def ${problem.entryPoint}\\(`));
        if (content.includes(problem.solution.trimEnd()) && !content.includes('_draft_')) right.push(problem.taskId);
      }
      return right;
    };
    const first = await rightTasks(1);
    expect(first).toHaveLength(6);
    expect(await rightTasks(1)).toEqual(first);
    const other = await start({ seed: 'fixed' });
    const again = (await (
      await chat(other, ask(first[0]!, { model: 'fake/right-fraction:0.6', seed: 1 }))
    ).json()) as Completion;
    expect(again.choices[0]!.message.content).not.toContain('_draft_');
  });

  it('sends broken code, prose and non-JSON bodies on request', async () => {
    const provider = await start();
    const syntax = (await (await chat(provider, ask('sample/0', { model: 'fake/syntax-error' }))).json()) as Completion;
    expect(syntax.choices[0]!.message.content).toContain('```python\ndef add(a: int, b: int) -> int\n');
    const prose = (await (await chat(provider, ask('sample/0', { model: 'fake/prose' }))).json()) as Completion;
    expect(prose.choices[0]!.message.content).not.toMatch(/```|def /);
    const malformed = await chat(provider, ask('sample/0', { model: 'fake/malformed' }));
    expect(malformed.status).toBe(200);
    await expect(malformed.json()).rejects.toThrow();
  });

  it('draws flaky failures per request and repeat, the same way for the same seed', async () => {
    const statuses = async (provider: FakeProvider): Promise<number[]> => {
      const seen: number[] = [];
      for (let i = 0; i < 30; i += 1)
        seen.push((await chat(provider, ask('sample/0', { model: 'fake/flaky-429:0.5', seed: i % 10 }))).status);
      return seen;
    };
    const a = await statuses(await start({ seed: 's' }));
    const b = await statuses(await start({ seed: 's' }));
    expect(a).toEqual(b);
    expect(a.filter((s) => s === 429).length).toBeGreaterThan(5);
    expect(a.filter((s) => s === 200).length).toBeGreaterThan(5);
  });

  it('delays slow answers and drops hanging requests on close', async () => {
    const provider = await start();
    const before = performance.now();
    expect((await chat(provider, ask('sample/0', { model: 'fake/slow:150' }))).status).toBe(200);
    expect(performance.now() - before).toBeGreaterThanOrEqual(140);

    const hanging = chat(provider, ask('sample/0', { model: 'fake/timeout' })).then(
      () => 'answered',
      () => 'dropped',
    );
    await expect.poll(() => provider.log().length).toBe(2);
    expect(provider.log()[1]?.status).toBeNull();
    await provider.close();
    expect(await hanging).toBe('dropped');
  });
});

describe('fake provider rate limits', () => {
  it('enforces RPM over a sliding minute with OpenAI headers on every answer', async () => {
    let clock = 0;
    const provider = await start({ rpm: 3, now: () => clock });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const res = await chat(provider, ask('sample/0'));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit-requests')).toBe('3');
      remaining.push(res.headers.get('x-ratelimit-remaining-requests') ?? '');
      clock += 10_000;
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const refused = await chat(provider, ask('sample/0'));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after-ms')).toBe('30000');
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(refused.headers.get('x-ratelimit-reset-requests')).toBe('30s');
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    clock = 60_000;
    expect((await chat(provider, ask('sample/0'))).status).toBe(200);
    expect(provider.log().map((a) => a.status)).toEqual([200, 200, 200, 429, 200]);
  });

  it('enforces TPM on prompt estimate + max_tokens and refuses requests larger than the budget', async () => {
    let clock = 0;
    const provider = await start({ tpm: 1000, now: () => clock });
    const first = await chat(provider, ask('sample/0', { max_tokens: 400 }));
    const cost = 400 + estimatePromptTokens([{ content: 'Task: sample/0\nWrite the function.' }]);
    expect(first.headers.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - cost));
    expect(first.headers.get('x-ratelimit-limit-tokens')).toBe('1000');
    clock = 1_000;
    expect((await chat(provider, ask('sample/0', { max_tokens: 400 }))).status).toBe(200);
    clock = 2_000;
    const refused = await chat(provider, ask('sample/0', { max_tokens: 400 }));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after-ms')).toBe('58000');
    expect((await chat(provider, ask('sample/0', { max_tokens: 5000 }))).status).toBe(413);
    clock = 60_000;
    expect((await chat(provider, ask('sample/0', { max_tokens: 400 }))).status).toBe(200);
  });

  it('can count the tokens actually answered over a shorter window, and logs what it counted', async () => {
    let clock = 0;
    const provider = await start({ tpm: 1000, windowMs: 2000, tokenCost: 'actual', now: () => clock });
    const first = await chat(provider, ask('sample/0', { max_tokens: 900 }));
    const cost = ((await first.json()) as Completion).usage.total_tokens;
    expect(cost).toBeLessThan(500);
    expect(first.headers.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - cost));
    clock = 1999;
    const second = await chat(provider, ask('sample/0', { max_tokens: 900 }));
    expect(second.headers.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - 2 * cost));
    clock = 2000;
    const third = await chat(provider, ask('sample/0', { max_tokens: 900 }));
    expect(third.headers.get('x-ratelimit-remaining-tokens')).toBe(String(1000 - 2 * cost));
    expect(provider.log().map((a) => a.tokens)).toEqual([cost, cost, cost]);
  });
});
