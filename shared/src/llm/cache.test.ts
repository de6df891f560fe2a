import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsArtifactStore } from '../storage/index.js';
import { cacheKey, ResponseCache, type CacheKeyParts } from './cache.js';

const parts: CacheKeyParts = {
  provider: 'fake',
  remoteModel: 'fake/always-right',
  messages: [
    { role: 'system', content: 'Be terse.' },
    { role: 'user', content: 'Task: sample/1' },
  ],
  temperature: 0.2,
  maxTokens: 512,
  sampleIndex: 3,
};

describe('cacheKey', () => {
  it('is the key the generator used before the capability moved, so filled caches keep answering', () => {
    expect(cacheKey(parts)).toBe('cache/llm/03/0343defeb9ed18d965359fde1249339b89d1077cc0121320442fb64332dff0ec.json');
    expect(cacheKey({ ...parts, responseFormat: { type: 'text' } })).toBe(cacheKey(parts));
  });

  it('changes with everything that changes the answer', () => {
    const base = cacheKey(parts);
    const variants: Partial<CacheKeyParts>[] = [
      { provider: 'other' },
      { remoteModel: 'fake/prose' },
      { messages: [{ role: 'user', content: 'Task: sample/2' }] },
      { temperature: 0.3 },
      { maxTokens: 256 },
      { sampleIndex: 4 },
      { responseFormat: { type: 'json_object' } },
      { responseFormat: { type: 'json_schema', name: 'verdict', schema: { type: 'object' } } },
    ];
    const keys = variants.map((v) => cacheKey({ ...parts, ...v }));
    expect(new Set([base, ...keys]).size).toBe(variants.length + 1);
  });
});

describe('ResponseCache', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores an answer once and treats unreadable objects as misses', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'evalfleet-cache-'));
    const store = new FsArtifactStore({ root: dir });
    await store.ensureReady();
    const cache = new ResponseCache(store);
    const key = cacheKey(parts);
    expect(await cache.get(key)).toBeUndefined();
    const answer = {
      text: 'def f(): pass',
      finishReason: 'stop',
      usage: { promptTokens: 10, completionTokens: 4, totalTokens: 14 },
      remoteModel: 'fake/always-right',
      provider: 'fake',
      costUsd: 0.001,
      latencyMs: 12,
      createdAt: new Date(0).toISOString(),
    };
    await cache.put(key, answer);
    await cache.put(key, { ...answer, text: 'second writer loses' });
    expect(await cache.get(key)).toEqual(answer);

    await store.put('cache/llm/xx/torn.json', '{"text": "cut off');
    expect(await cache.get('cache/llm/xx/torn.json')).toBeUndefined();
    await store.put('cache/llm/xx/foreign.json', JSON.stringify({ text: 1 }));
    expect(await cache.get('cache/llm/xx/foreign.json')).toBeUndefined();
  });
});
