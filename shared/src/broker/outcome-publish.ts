import { encodeMessage, type Envelope, type Stage } from '../messages/index.js';
import { deadLetterHeaders, retryHeaders, type HeaderTable } from './headers.js';
import { stageRoutingKey } from './names.js';
import type { Outcome } from './outcome.js';
import { envelopeProperties, type ConfirmPublisher } from './publisher.js';

/** The properties of a message a dead letter copies. */
export type SourceProperties = { contentType?: unknown; messageId?: unknown; type?: unknown; timestamp?: unknown };

/** A failed message's next step, published with a confirm before the consumer acks the original. */
export class OutcomePublisher {
  constructor(
    private readonly publisher: ConfirmPublisher,
    private readonly stage: Stage,
  ) {}

  /** The envelope's next attempt, through the retry exchange (delayed by its tier). */
  async retry(
    signal: AbortSignal,
    received: HeaderTable | undefined,
    env: Envelope,
    outcome: Extract<Outcome, { action: 'retry' }>,
  ): Promise<void> {
    const now = new Date();
    const next: Envelope = { ...env, attempt: env.attempt + 1, sentAt: now.toISOString() };
    const headers = retryHeaders(received, {
      failure: outcome.failure,
      stage: this.stage,
      attempt: env.attempt,
      tierMs: outcome.tierMs,
      now,
    });
    await this.publisher.publishContent(
      'retry',
      stageRoutingKey(this.stage),
      encodeMessage(next),
      envelopeProperties(next, headers),
      { signal },
    );
  }

  /** The original bytes, unchanged (also when they are not even JSON), to the stage's dead-letter queue. */
  async deadLetter(
    signal: AbortSignal,
    received: HeaderTable | undefined,
    content: Buffer,
    p: SourceProperties,
    outcome: Extract<Outcome, { action: 'dead_letter' }>,
    attempts: number,
  ): Promise<void> {
    const headers = deadLetterHeaders(received, {
      failure: outcome.failure,
      stage: this.stage,
      attempts,
      routingKey: stageRoutingKey(this.stage),
      now: new Date(),
      ...(outcome.lastError ? { lastError: outcome.lastError } : {}),
    });
    await this.publisher.publishContent(
      'dlx',
      stageRoutingKey(this.stage),
      content,
      {
        persistent: true,
        contentType: typeof p.contentType === 'string' ? p.contentType : 'application/octet-stream',
        ...(typeof p.messageId === 'string' ? { messageId: p.messageId } : {}),
        ...(typeof p.type === 'string' ? { type: p.type } : {}),
        timestamp: typeof p.timestamp === 'number' ? p.timestamp : Math.floor(Date.now() / 1000),
        headers,
      },
      { signal },
    );
  }
}
