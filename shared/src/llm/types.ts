import type { TokenUsage } from './registry.js';
import type { ChatMessage } from './tokens.js';

/** Codes of the errors the LLM client throws; callers decide on `retryable`, not on these. */
export const LlmErrorCodes = {
  rateLimited: 'rate_limited',
  providerUnavailable: 'provider_unavailable',
  providerTimeout: 'provider_timeout',
  providerRejected: 'provider_rejected',
  authFailed: 'auth_failed',
  modelNotFound: 'model_not_found',
  missingApiKey: 'missing_api_key',
  malformedResponse: 'malformed_response',
  unknownModel: 'unknown_model',
  aborted: 'request_aborted',
} as const;

export type LlmErrorCode = (typeof LlmErrorCodes)[keyof typeof LlmErrorCodes];

/**
 * The shape the answer must take: free text (the default), any JSON object, or JSON that
 * follows `schema` (OpenAI structured outputs; vLLM, Ollama and LiteLLM accept the same field).
 */
export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; strict?: boolean; description?: string };

export interface LlmRequest {
  /** Registry name of the model (not the provider's id). */
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  /** Defaults to the model's `max_output_tokens`. */
  maxTokens?: number;
  seed?: number;
  responseFormat?: ResponseFormat;
  signal?: AbortSignal;
  /** Delivery attempt of the job, recorded in the trace. */
  attempt?: number;
}

/** Everything a call sent and got back, to be stored beside the job's artifacts. Never holds the API key. */
export interface LlmTrace {
  id: string;
  model: string;
  provider: string;
  remoteModel: string;
  request: {
    messages: ChatMessage[];
    temperature?: number;
    maxTokens: number;
    seed?: number;
    responseFormat?: ResponseFormat;
  };
  promptTokensEstimate: number;
  responseText: string | null;
  finishReason: string | null;
  usage: TokenUsage | null;
  latencyMs: number;
  costUsd: number;
  /** HTTP status, or null when no response arrived. */
  status: number | null;
  attempt?: number;
  /** Set by the model caller: whose call this was. */
  runId?: string;
  jobId?: string;
  /** True when the answer came from the response cache and no provider was called. */
  cached?: boolean;
  /** 'ok', an LlmErrorCode, or the code of a failure before the call (budget, rate limiter). */
  outcome: string;
  /** Why the attempt failed and whether, and after how long, it is worth another. */
  error?: { code: string; message: string; retryable?: boolean; retryAfterMs?: number };
  headers: Record<string, string>;
  /** The provider's body (truncated) when it could not be used. */
  rawBody?: string;
  startedAt: string;
  finishedAt: string;
}

export interface LlmResponse {
  text: string;
  finishReason: string;
  usage: TokenUsage & { estimated?: boolean };
  latencyMs: number;
  costUsd: number;
  /** Model id the provider says answered (may differ from the one asked for, e.g. behind a router). */
  remoteModel: string;
  provider: string;
  model: string;
  /** Rate-limit headers of the response: retry-after, retry-after-ms, x-ratelimit-*. */
  headers: Record<string, string>;
  status: number;
  attempt?: number;
  trace: LlmTrace;
}

export interface LlmClient {
  /**
   * One chat completion, no retries: every failure is thrown as a RetryableError or PermanentError
   * whose `details.trace` is the call's LlmTrace.
   */
  complete(request: LlmRequest): Promise<LlmResponse>;
  /** Closes the connection pool; idempotent. */
  close(): Promise<void>;
}
