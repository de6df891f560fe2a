export * from './registry.js';
export * from './tokens.js';
export * from './headers.js';
export * from './types.js';
export { createLlmClient, type FetchLike, type FetchResponseLike, type LlmClientOptions } from './client.js';
export { maxRawBodyChars } from './classify.js';
