export * from './registry.js';
export * from './tokens.js';
export * from './headers.js';
export * from './types.js';
export { countPromptTokens, countTextTokens, encodingForModel } from './tokenizer.js';
export { createLlmClient, type LlmClientOptions } from './client.js';
export { maxRawBodyChars } from './classify.js';
export { traceOfError } from './trace.js';
