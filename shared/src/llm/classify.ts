import { PermanentError, RetryableError, type EvalfleetError } from '../errors/index.js';
import { parseRetryAfterMs } from './headers.js';
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
