import { formatDurationMs } from '@evalfleet/shared/llm';

export interface LimitDecision {
  admitted: boolean;
  /** The request alone needs more tokens than the whole per-minute budget: it can never be admitted. */
  tooLarge: boolean;
  /** When refused: milliseconds until enough of the window has expired to admit this request. */
  retryAfterMs: number;
  /** OpenAI-style `x-ratelimit-*` headers describing the window after the decision. */
  headers: Record<string, string>;
}

/**
 * Sliding window (60 s unless told otherwise) over admitted requests, counting requests
 * (RPM) and tokens (TPM). The caller says what a request costs; by default that is its
 * prompt estimate plus its max_tokens, charged when it is admitted, which is how OpenAI
 * counts before the answer is known.
 */
export class SlidingWindowLimiter {
  private entries: { at: number; tokens: number }[] = [];
  private readonly rpm: number | undefined;
  private readonly tpm: number | undefined;
  private readonly windowMs: number;

  // Plain fields rather than parameter properties, so Node can run this file by stripping types.
  constructor(rpm: number | undefined, tpm: number | undefined, windowMs = 60_000) {
    this.rpm = rpm;
    this.tpm = tpm;
    this.windowMs = windowMs;
  }

  get enabled(): boolean {
    return this.rpm !== undefined || this.tpm !== undefined;
  }

  reset(): void {
    this.entries = [];
  }

  /** Admit and record the request, or say how long to wait. */
  take(now: number, tokens: number): LimitDecision {
    this.entries = this.entries.filter((e) => e.at > now - this.windowMs);
    if (this.tpm !== undefined && tokens > this.tpm) {
      return { admitted: false, tooLarge: true, retryAfterMs: 0, headers: this.headers(now) };
    }
    let waitMs = 0;
    if (this.rpm !== undefined && this.entries.length + 1 > this.rpm) {
      const freeing = this.entries[this.entries.length - this.rpm];
      waitMs = Math.max(waitMs, freeing === undefined ? 0 : freeing.at + this.windowMs - now);
    }
    if (this.tpm !== undefined) {
      let used = this.entries.reduce((sum, e) => sum + e.tokens, 0);
      for (const entry of this.entries) {
        if (used + tokens <= this.tpm) break;
        used -= entry.tokens;
        waitMs = Math.max(waitMs, entry.at + this.windowMs - now);
      }
    }
    const admitted = waitMs === 0;
    if (admitted) this.entries.push({ at: now, tokens });
    return { admitted, tooLarge: false, retryAfterMs: Math.max(1, Math.ceil(waitMs)), headers: this.headers(now) };
  }

  private headers(now: number): Record<string, string> {
    const headers: Record<string, string> = {};
    // "reset" is when the next unit of capacity comes back: the oldest admitted request leaving the window.
    const oldest = this.entries[0];
    const reset = formatDurationMs(oldest === undefined ? 0 : oldest.at + this.windowMs - now);
    if (this.rpm !== undefined) {
      headers['x-ratelimit-limit-requests'] = String(this.rpm);
      headers['x-ratelimit-remaining-requests'] = String(Math.max(0, this.rpm - this.entries.length));
      headers['x-ratelimit-reset-requests'] = reset;
    }
    if (this.tpm !== undefined) {
      const used = this.entries.reduce((sum, e) => sum + e.tokens, 0);
      headers['x-ratelimit-limit-tokens'] = String(this.tpm);
      headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, this.tpm - used));
      headers['x-ratelimit-reset-tokens'] = reset;
    }
    return headers;
  }
}
