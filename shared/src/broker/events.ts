import type { ConsumeMessage } from 'amqplib';
import type { Logger } from '../logger/index.js';
import { envelopeSchema, type Envelope } from '../messages/index.js';
import { openChannel, type ChannelHandle, type Session } from './channel-handle.js';
import type { HeaderTable } from './headers.js';
import { eventRoutingKey, type TopologyNames } from './names.js';
import { asError } from './outcome.js';

/** Called for each run-level event; the payload is the publisher's and is not validated here. */
export type EventHandler = (env: Envelope, ctx: { name: string; headers: HeaderTable }) => Promise<void> | void;

export type EventSubscriptionOptions = {
  /** Event names (`run.completed`) or topic patterns over them (`run.*`, `#`). */
  events: readonly string[];
  handler: EventHandler;
};

/**
 * A client's own view of run-level events: an exclusive, auto-delete, server-named queue bound to
 * `event.<name>` on the work exchange, re-created on every reconnect. Events are notifications, not
 * work: they are auto-acked, and those published while the client is disconnected are missed, so a
 * client that must not miss one also reads the run's state (e.g. `run.json`) after subscribing.
 */
export class EventSubscription {
  private handle: ChannelHandle | undefined;
  private closed = false;
  private attachChain: Promise<void> = Promise.resolve();

  constructor(
    private readonly names: TopologyNames,
    private readonly opts: EventSubscriptionOptions,
    private readonly logger: Logger,
  ) {}

  isSubscribed(): boolean {
    return !this.closed && this.handle?.open === true;
  }

  /** Subscribe on `session` (idempotent; serialised so a reconnect and the first subscribe never race). */
  attach(session: Session): Promise<void> {
    const previous = this.attachChain;
    this.attachChain = (async () => {
      await previous.catch(() => undefined);
      await this.subscribe(session);
    })();
    return this.attachChain;
  }

  private async subscribe(session: Session): Promise<void> {
    if (this.closed || session.lost || (this.handle?.open && this.handle.generation === session.generation)) return;
    const handle = await openChannel(session, this.logger, 'events');
    try {
      const { queue } = await handle.channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      for (const name of this.opts.events)
        await handle.channel.bindQueue(queue, this.names.exchanges.work, eventRoutingKey(name));
      await handle.channel.consume(queue, (msg) => this.onMessage(msg), { noAck: true });
    } catch (err) {
      await handle.close();
      throw err;
    }
    this.handle = handle;
  }

  async close(): Promise<void> {
    this.closed = true;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  private onMessage(msg: ConsumeMessage | null): void {
    if (msg === null) {
      // Our own exclusive queue was deleted under us; the next reconnect makes a new one.
      this.logger.warn('event subscription cancelled by the broker');
      return;
    }
    const name = msg.fields.routingKey.replace(/^event\./, '');
    let env: Envelope;
    try {
      env = envelopeSchema.parse(JSON.parse(msg.content.toString('utf8')));
    } catch (err) {
      this.logger.warn({ err: asError(err), event: name }, 'ignoring an event that is not an envelope');
      return;
    }
    void Promise.resolve()
      .then(() => this.opts.handler(env, { name, headers: msg.properties.headers ?? {} }))
      .catch((err: unknown) => this.logger.warn({ err: asError(err), event: name }, 'event handler failed'));
  }
}
