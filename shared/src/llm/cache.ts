import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ArtifactStore } from '../storage/index.js';
import type { ChatMessage } from './tokens.js';
import type { ResponseFormat } from './types.js';

export const cachedResponseSchema = z.object({
  text: z.string(),
  finishReason: z.string(),
  usage: z.object({ promptTokens: z.number(), completionTokens: z.number(), totalTokens: z.number() }),
  remoteModel: z.string(),
  provider: z.string(),
  costUsd: z.number(),
  latencyMs: z.number(),
  createdAt: z.string(),
});
export type CachedResponse = z.infer<typeof cachedResponseSchema>;

export type CacheKeyParts = {
  provider: string;
  remoteModel: string;
  messages: ChatMessage[];
  temperature: number;
  maxTokens: number;
  sampleIndex: number;
  responseFormat?: ResponseFormat | undefined;
};

/** The cache key: a hash of what determines the answer (model, messages, parameters, sample index). */
export function cacheKey(parts: CacheKeyParts): string {
  const fields: unknown[] = [
    parts.provider,
    parts.remoteModel,
    parts.messages.map((m) => [m.role, m.content]),
    parts.temperature,
    parts.maxTokens,
    parts.sampleIndex,
  ];
  // Appended only when set, so the keys of free-text answers stay what they were before
  // structured answers existed, and caches already filled keep answering.
  if (parts.responseFormat !== undefined && parts.responseFormat.type !== 'text') fields.push(parts.responseFormat);
  const hash = createHash('sha256').update(JSON.stringify(fields)).digest('hex');
  return `cache/llm/${hash.slice(0, 2)}/${hash}.json`;
}

/**
 * Provider answers kept in the artifact store, so a resumed or repeated run never pays
 * twice for the same request. Only successful answers are cached.
 */
export class ResponseCache {
  // A plain field, not a parameter property: the benchmarks run these sources with type stripping only.
  private readonly store: ArtifactStore;

  constructor(store: ArtifactStore) {
    this.store = store;
  }

  async get(key: string): Promise<CachedResponse | undefined> {
    const body = await this.store.getOptional(key);
    if (!body) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      // A torn or foreign object is a miss: the call is made again and overwrites nothing.
      return undefined;
    }
    const parsed = cachedResponseSchema.safeParse(value);
    return parsed.success ? parsed.data : undefined;
  }

  async put(key: string, value: CachedResponse): Promise<void> {
    await this.store.putIfAbsent(key, JSON.stringify(value), { contentType: 'application/json' });
  }
}
