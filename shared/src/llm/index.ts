export * from './registry.js';
export * from './tokens.js';
export * from './headers.js';
export * from './types.js';
export { countPromptTokens, countTextTokens, encodingForModel } from './tokenizer.js';
export { createLlmClient, type LlmClientOptions } from './client.js';
export { maxRawBodyChars } from './classify.js';
export { traceOfError } from './trace.js';
export { cacheKey, ResponseCache, cachedResponseSchema, type CacheKeyParts, type CachedResponse } from './cache.js';
export { createLlmMetrics, type LlmMetrics } from '../metrics/llm.js';
export { createLocalLimiter, type LocalLimiter, type LocalLimiterOptions } from './local-limiter.js';
export type {
  CallOutcome,
  CallParams,
  CallRequest,
  ModelAnswer,
  ModelCaller,
  ModelCallerOptions,
} from './call-types.js';
export { createModelCaller, type ModelCallerDeps } from './call.js';
