import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';
import type { Logger } from '../logger/index.js';
import { Gate } from './gate.js';

/** One AMQP connection and its generation number; a reconnect makes a new session. */
export type Session = {
  readonly model: ChannelModel;
  readonly generation: number;
  lost: boolean;
};

/**
 * A channel plus what we need to know about it after the fact: which connection generation it
 * belongs to and whether it is still open. Deliveries remember their handle, so an ack for a
 * delivery from a channel that has since closed is dropped instead of being sent on a new channel
 * (where its delivery tag would be unknown and close that channel too).
 */
export class ChannelHandle<C extends Channel = Channel> {
  private readonly closed = new AbortController();
  /** Open while the channel's write buffer accepts more publishes. */
  readonly writable = new Gate(true);

  constructor(
    readonly channel: C,
    readonly generation: number,
  ) {}

  get open(): boolean {
    return !this.closed.signal.aborted;
  }

  /** Aborts when the channel closes; from then on every delivery it carried is stale. */
  get closedSignal(): AbortSignal {
    return this.closed.signal;
  }

  markClosed(): void {
    if (this.closed.signal.aborted) return;
    this.closed.abort(new Error('channel closed'));
    // Publishers waiting for 'drain' on a dead channel must move on to the next one.
    this.writable.open();
  }

  /** Close the channel; never throws (an already closed channel or connection is fine). */
  async close(): Promise<void> {
    if (!this.open) return;
    this.markClosed();
    try {
      await this.channel.close();
    } catch {
      // Closing a channel whose connection is gone throws; there is nothing left to release.
    }
  }
}

/** Open a channel with the listeners every channel needs: an unhandled 'error' event would crash the process. */
export async function openChannel(session: Session, logger: Logger, label: string): Promise<ChannelHandle> {
  return track(await session.model.createChannel(), session, logger, label);
}

export async function openConfirmChannel(
  session: Session,
  logger: Logger,
  label: string,
): Promise<ChannelHandle<ConfirmChannel>> {
  return track(await session.model.createConfirmChannel(), session, logger, label);
}

function track<C extends Channel>(channel: C, session: Session, logger: Logger, label: string): ChannelHandle<C> {
  const handle = new ChannelHandle(channel, session.generation);
  // Prepended so the handle reads closed before amqplib fails the pending confirm callbacks
  // (its own 'close' listener runs them): a publisher can then tell "channel died" from "nacked".
  channel.prependListener('close', () => handle.markClosed());
  channel.on('error', (err: Error) => {
    logger.warn({ err, channel: label, generation: session.generation }, 'broker channel error');
  });
  channel.on('drain', () => handle.writable.open());
  return handle;
}
