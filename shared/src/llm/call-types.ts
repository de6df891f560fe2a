import type { TokenUsage } from './registry.js';
import type { ChatMessage } from './tokens.js';
import type { LlmTrace, ResponseFormat } from './types.js';

/** What shapes the answer; all of it is part of the response cache key. */
export interface CallParams {
  temperature: number;
  /** Capped at the model's `max_output_tokens`. */
  maxTokens: number;
  /** Which of k samples of the same prompt this is: sent as the provider's `seed`. */
  sampleIndex: number;
  /** A JSON object or JSON-schema answer instead of free text. */
  responseFormat?: ResponseFormat;
}

/** One model call for one job attempt. */
export interface CallRequest {
  runId: string;
  jobId: string;
  /** Delivery attempt of the job: names the stored trace, so retries never overwrite one another. */
  attempt: number;
  /** Registry name of the model (models.yaml), not the provider's id. */
  model: string;
  messages: ChatMessage[];
  params: CallParams;
  /** The run's spending limit in US dollars, shared by the fleet; unset: no limit. */
  budgetUsd?: number;
  /** Skip the cache lookup and call the provider (the answer is still stored for later runs). */
  noCache?: boolean;
  /** Aborts the wait for capacity and the HTTP call (e.g. the job's delivery deadline). */
  signal?: AbortSignal;
}

export interface ModelAnswer {
  text: string;
  /** `stop`, `length` (cut by maxTokens), ... as the provider says; `unknown` when it says nothing. */
  finishReason: string;
  /** As the provider reported it; `estimated` when it reported nothing and we counted. */
  usage: TokenUsage & { estimated?: boolean };
  /** 0 for a cache hit: nothing was spent for this job. */
  costUsd: number;
  /** 0 for a cache hit. */
  latencyMs: number;
  cached: boolean;
  /** Model id the provider says answered (may differ from the one asked for behind a router). */
  remoteModel: string;
  provider: string;
  /** Where the attempt's trace was stored (`runKeys.trace(runId, jobId, attempt)`). */
  traceKey: string;
  trace: LlmTrace;
}

/**
 * An answer, or the run's budget cannot cover this call's worst case (no call was made).
 * Provider failures are thrown instead: RetryableError (429, 5xx, timeouts, network, waits for
 * capacity) or PermanentError (400/401/404, `malformed_response`), each with `details.trace`.
 */
export type CallOutcome = { kind: 'answer'; answer: ModelAnswer } | { kind: 'budget_exhausted'; spentUsd: number };

/** How every workload calls models: cache → budget → fleet rate limit → local concurrency → provider, traced. */
export interface ModelCaller {
  call(request: CallRequest): Promise<CallOutcome>;
  /** Waits for calls in flight, then stops the limiters and closes the connection pool; idempotent. */
  close(): Promise<void>;
  /** A run completed: drop its spend and budget gauges. */
  forgetRun(runId: string): void;
}

export interface ModelCallerOptions {
  /** Deadline of one HTTP call (connect, headers, body); default 120 000 ms. */
  timeoutMs?: number;
  /** Provider calls in flight in this process at most; default 32. */
  maxConcurrent?: number;
  /** Least time between two call starts in this process; default 0 (no spacing). */
  minTimeMs?: number;
  /** Keep answers in the artifact store and answer repeats from it; default true. */
  responseCache?: boolean;
  /** Fleet-wide rpm/tpm limits from the registry, kept in Redis; default true. */
  rateLimits?: boolean;
  /** A call that would wait longer than this for fleet capacity throws RetryableError instead; default 30 000. */
  rateLimitMaxWaitMs?: number;
  /** The period rpm/tpm are counted over; default 60 000 (tests shorten it). */
  rateLimitPeriodMs?: number;
  /**
   * Extra time each reservation holds its capacity beyond the period, absorbing the delay between
   * our admission and the provider's clock; default max(250 ms, 1 % of the period).
   */
  rateLimitMarginMs?: number;
}
