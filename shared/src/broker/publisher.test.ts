// A message over the broker's size limit is refused before it reaches a channel: the broker would close
// the channel on it, and on every retry of it.
import { describe, expect, it } from 'vitest';
import { PermanentError } from '../errors/index.js';
import { createLogger } from '../logger/index.js';
import { BrokerErrorCodes } from './codes.js';
import { Gate } from './gate.js';
import { topologyNames } from './names.js';
import { ConfirmPublisher } from './publisher.js';

describe('ConfirmPublisher size limit', () => {
  it('fails a message over maxMessageBytes at once, as a permanent message_too_large', async () => {
    let asked = 0;
    const publisher = new ConfirmPublisher({
      names: topologyNames('t-size'),
      logger: createLogger({ service: 'test' }, { level: 'silent' }),
      metrics: undefined,
      publishTimeoutMs: 30_000,
      maxMessageBytes: 1024,
      unblocked: new Gate(true),
      currentSession: () => {
        asked++;
        return undefined;
      },
      waitUntilConnected: () => Promise.reject(new Error('no broker in this test')),
    });
    const err: unknown = await publisher
      .publishContent('work', 'stage.evaluate', Buffer.alloc(1025), { persistent: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as PermanentError).code).toBe(BrokerErrorCodes.messageTooLarge);
    // It never looked for a connection.
    expect(asked).toBe(0);
  });
});
