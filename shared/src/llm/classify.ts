import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { EvalfleetError, PermanentError, RetryableError } from '../errors/index.js';
import { parseRetryAfterMs } from './headers.js';
import type { Exchange } from './transport.js';
import { LlmErrorCodes, type LlmErrorCode } from './types.js';

/** Longest provider body kept in errors and traces. */
export const maxRawBodyChars = 2000;

export function truncate(text: string, max: number = maxRawBodyChars): string {
  return text.length <= max ? text : `${text.slice(0, max)}… [${text.length - max} more chars]`;
}

/** The provider's own error message, from an OpenAI-style `{ error: { message } }` body when there is one. */
function providerMessage(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'error' in parsed) {
      const error: unknown = parsed.error;
      if (typeof error === 'string') return error;
      if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') {
        return error.message;
      }
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  const text = body.trim();
  return text === '' ? undefined : truncate(text, 200);
}

function codeForStatus(status: number): { code: LlmErrorCode; retryable: boolean } {
  if (status === 429) return { code: LlmErrorCodes.rateLimited, retryable: true };
  if (status === 408) return { code: LlmErrorCodes.providerTimeout, retryable: true };
  // 409 is a provider-side conflict (e.g. a lock); the OpenAI SDK retries it too.
  if (status === 409 || status >= 500) return { code: LlmErrorCodes.providerUnavailable, retryable: true };
  if (status === 401 || status === 403) return { code: LlmErrorCodes.authFailed, retryable: false };
  if (status === 404) return { code: LlmErrorCodes.modelNotFound, retryable: false };
  return { code: LlmErrorCodes.providerRejected, retryable: false };
}

/** The error for a non-2xx answer; `details` must already be free of secrets. */
export function errorForStatus(
  status: number,
  headers: Readonly<Record<string, string>>,
  body: string,
  details: Record<string, unknown>,
): EvalfleetError {
  const { code, retryable } = codeForStatus(status);
  const reason = providerMessage(body);
  const message = `${String(details.provider)} answered HTTP ${status} for ${String(details.model)}${reason === undefined ? '' : `: ${reason}`}`;
  const allDetails = { ...details, status, rawBody: truncate(body) };
  if (!retryable) return new PermanentError(code, message, { details: allDetails });
  const retryAfterMs = parseRetryAfterMs(headers);
  return new RetryableError(code, message, {
    details: allDetails,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** What the client knows about a failed call when it classifies it. */
export interface FailedCall {
  provider: string;
  model: string;
  remoteModel: string;
  timeoutMs: number;
  /** Status, headers and raw body of the answer, when one arrived. */
  seen: Exchange;
  /** True once the caller's signal has aborted. */
  callerAborted: boolean;
  /** Removes the API key from any text that leaves the client. */
  redact(text: string): string;
}

/** A 2xx answer the client cannot use: not JSON, or no `choices[0].message.content`. */
export function malformedResponse(
  call: Pick<FailedCall, 'provider' | 'model' | 'remoteModel'>,
  status: number,
  why: string,
  rawBody: string,
): PermanentError {
  const details = { provider: call.provider, model: call.model, remoteModel: call.remoteModel };
  return new PermanentError(
    LlmErrorCodes.malformedResponse,
    `${call.provider} answered HTTP ${status} without choices[0].message.content: ${why}`,
    { details: { ...details, status, rawBody: truncate(rawBody) } },
  );
}

/**
 * The RetryableError or PermanentError for whatever the OpenAI SDK threw, decided by the SDK's
 * error classes and the HTTP status (never by message text), with the raw body for the trace.
 */
export function classifySdkError(err: unknown, call: FailedCall): { error: EvalfleetError; rawBody?: string } {
  const details = { provider: call.provider, model: call.model, remoteModel: call.remoteModel };
  const body = call.seen.body === undefined ? undefined : call.redact(call.seen.body);
  if (err instanceof APIUserAbortError || (call.callerAborted && call.seen.status === undefined)) {
    return { error: new RetryableError(LlmErrorCodes.aborted, 'request aborted by caller', { cause: err, details }) };
  }
  if (err instanceof APIConnectionTimeoutError) {
    const message = `${call.provider} did not answer within ${call.timeoutMs} ms`;
    return {
      error: new RetryableError(LlmErrorCodes.providerTimeout, message, {
        cause: err,
        details: { ...details, timeoutMs: call.timeoutMs },
      }),
    };
  }
  if (err instanceof APIConnectionError) {
    // The SDK wraps fetch's TypeError('fetch failed'), whose own cause says what really happened.
    const cause: unknown = err.cause;
    const reason = cause instanceof Error && cause.cause instanceof Error ? cause.cause.message : err.message;
    const message = `${call.provider} unreachable: ${call.redact(reason)}`;
    return { error: new RetryableError(LlmErrorCodes.providerUnavailable, message, { cause: err, details }) };
  }
  if (err instanceof APIError && typeof err.status === 'number') {
    const text = body ?? call.redact(JSON.stringify(err.error ?? null));
    return { error: errorForStatus(err.status, call.seen.headers ?? {}, text, details), rawBody: text };
  }
  const status = call.seen.status;
  if (status !== undefined && status >= 200 && status < 300) {
    // The SDK could not parse a 2xx body (e.g. HTML with a JSON content type).
    const why = err instanceof Error ? err.message : String(err);
    return { error: malformedResponse(call, status, why, body ?? ''), rawBody: body ?? '' };
  }
  if (err instanceof EvalfleetError) return { error: err };
  const message = `${call.provider} call failed: ${call.redact(err instanceof Error ? err.message : String(err))}`;
  return { error: new RetryableError(LlmErrorCodes.providerUnavailable, message, { cause: err, details }) };
}
