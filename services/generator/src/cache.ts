import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ArtifactStore } from '@evalfleet/shared/storage';
import type { ChatMessage } from '@evalfleet/shared/llm';

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
};

/** The cache key: a hash of what determines the answer (model, messages, parameters, sample index). */
export function cacheKey(parts: CacheKeyParts): string {
  const canonical = JSON.stringify([
    parts.provider,
    parts.remoteModel,
    parts.messages.map((m) => [m.role, m.content]),
    parts.temperature,
    parts.maxTokens,
    parts.sampleIndex,
  ]);
  const hash = createHash('sha256').update(canonical).digest('hex');
  return `cache/llm/${hash.slice(0, 2)}/${hash}.json`;
}

/**
 * Provider answers kept in the artifact store, so a resumed or repeated run never pays
 * twice for the same request. Only successful answers are cached.
 */
export class ResponseCache {
  constructor(private readonly store: ArtifactStore) {}

  async get(key: string): Promise<CachedResponse | undefined> {
    const body = await this.store.getOptional(key);
    if (!body) return undefined;
    const parsed = cachedResponseSchema.safeParse(JSON.parse(body.toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  }

  async put(key: string, value: CachedResponse): Promise<void> {
    await this.store.putIfAbsent(key, JSON.stringify(value), { contentType: 'application/json' });
  }
}
