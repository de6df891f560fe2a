import { randomUUID } from 'node:crypto';
import { EvalfleetError, PermanentError, RetryableError } from '../errors/index.js';
import { truncate } from './classify.js';
import type { ModelConfig } from './registry.js';
import type { LlmRequest, LlmTrace } from './types.js';

/** A trace for one attempt at `request`, before anything was sent. */
export function startTrace(
  model: Pick<ModelConfig, 'name' | 'provider' | 'model'>,
  request: LlmRequest & { maxTokens: number },
  promptTokensEstimate: number,
  startedAt: Date = new Date(),
): LlmTrace {
  return {
    id: randomUUID(),
    model: model.name,
    provider: model.provider,
    remoteModel: model.model,
    request: {
      messages: request.messages,
      maxTokens: request.maxTokens,
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.seed === undefined ? {} : { seed: request.seed }),
      ...(request.responseFormat === undefined ? {} : { responseFormat: request.responseFormat }),
    },
    promptTokensEstimate,
    responseText: null,
    finishReason: null,
    usage: null,
    latencyMs: 0,
    costUsd: 0,
    status: null,
    ...(request.attempt === undefined ? {} : { attempt: request.attempt }),
    outcome: 'ok',
    headers: {},
    startedAt: startedAt.toISOString(),
    finishedAt: startedAt.toISOString(),
  };
}

/** Records on `trace` why the attempt failed, how long it took, and the unusable body if any. */
export function recordFailure(trace: LlmTrace, error: EvalfleetError, latencyMs: number, rawBody?: string): void {
  trace.outcome = error.code;
  trace.error = {
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    ...(error instanceof RetryableError && error.retryAfterMs !== undefined
      ? { retryAfterMs: error.retryAfterMs }
      : {}),
  };
  if (rawBody !== undefined) trace.rawBody = truncate(rawBody);
  trace.latencyMs = latencyMs;
  trace.finishedAt = new Date().toISOString();
}

/** The same error (class, code, retry hint, cause) with the trace in `details.trace`. */
export function withTrace(error: EvalfleetError, trace: LlmTrace): EvalfleetError {
  const details = { ...error.details, trace };
  if (error instanceof RetryableError) {
    return new RetryableError(error.code, error.message, {
      cause: error.cause,
      details,
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    });
  }
  return new PermanentError(error.code, error.message, { cause: error.cause, details });
}

function isTrace(value: unknown): value is LlmTrace {
  return (
    typeof value === 'object' &&
    value !== null &&
    'id' in value &&
    'outcome' in value &&
    'request' in value &&
    typeof value.outcome === 'string'
  );
}

/** The trace a model call attached to the error it threw, if any. */
export function traceOfError(err: unknown): LlmTrace | undefined {
  const trace = err instanceof EvalfleetError ? err.details?.['trace'] : undefined;
  return isTrace(trace) ? trace : undefined;
}
