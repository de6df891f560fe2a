import type { ConfirmChannel, Message, Options } from 'amqplib';
import { ErrorCodes, PermanentError, RetryableError } from '../errors/index.js';
import type { Logger } from '../logger/index.js';
import { encodeMessage, type Envelope } from '../messages/index.js';
import type { FleetMetrics } from '../metrics/index.js';
import { fullJitterDelay, sleep } from './backoff.js';
import { batchProperties, chunkBatches } from './batch.js';
import { openConfirmChannel, type ChannelHandle, type Session } from './channel-handle.js';
import { BrokerErrorCodes } from './codes.js';
import type { Gate } from './gate.js';
import type { HeaderTable } from './headers.js';
import { eventRoutingKey, stageRoutingKey, type ExchangeRole, type TopologyNames } from './names.js';

export type PublishOptions = {
  /** Exchange to publish to. Default `work`. */
  exchange?: ExchangeRole;
  headers?: HeaderTable;
  /** How long to wait for a connection, an unblocked broker and the confirm. Default: the connection's publish timeout. */
  timeoutMs?: number;
  /** Give up (if the message has not been handed to a channel yet) when this aborts. */
  signal?: AbortSignal;
};

/** Publishing with broker confirms; every promise resolves only once the broker has the message. */
export interface Publisher {
  /** Publish an envelope with `routingKey` on the chosen exchange. */
  publish(routingKey: string, env: Envelope, opts?: PublishOptions): Promise<void>;
  /** Publish an envelope to its own stage's queue (`stage.<env.stage>` on the work exchange). */
  send(env: Envelope, opts?: Omit<PublishOptions, 'exchange'>): Promise<void>;
  /** Publish a run-level event (`event.<name>` on the work exchange); it is fine if nobody listens. */
  publishEvent(name: string, env: Envelope, opts?: Omit<PublishOptions, 'exchange'>): Promise<void>;
  /**
   * Publish envelopes to their stages' queues as batch messages (see batch.ts) of at most `maxItems`,
   * each under the broker's size limit; one envelope travels as an ordinary message.
   */
  sendMany(envs: readonly Envelope[], maxItems: number, opts?: Omit<PublishOptions, 'exchange'>): Promise<void>;
}

/** What a publisher needs from its connection. */
export interface PublisherHost {
  readonly names: TopologyNames;
  readonly logger: Logger;
  readonly metrics: FleetMetrics | undefined;
  readonly publishTimeoutMs: number;
  /** Largest message body the broker takes (its `max_message_size`). */
  readonly maxMessageBytes: number;
  /** Open while the broker has not blocked the connection (resource alarm). */
  readonly unblocked: Gate;
  currentSession(): Session | undefined;
  waitUntilConnected(timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

/** AMQP message properties of an envelope (messageId is jobId:stage:attempt, the idempotency key). */
export function envelopeProperties(env: Envelope, headers: HeaderTable = {}): Options.Publish {
  return {
    persistent: true,
    contentType: 'application/json',
    messageId: `${env.jobId}:${env.stage}:${env.attempt}`,
    timestamp: Math.floor(Date.now() / 1000),
    type: env.type,
    headers,
  };
}

const metricRole: Record<ExchangeRole, string> = { work: 'work', retry: 'retry', dlx: 'dead_letter' };

type SendResult = 'confirmed' | 'channel_closed';

export class ConfirmPublisher implements Publisher {
  private handle: ChannelHandle<ConfirmChannel> | undefined;
  private opening: Promise<ChannelHandle<ConfirmChannel>> | undefined;
  // messageIds the broker returned as unroutable; the return arrives before the confirm.
  private returned = new Map<string, number>();

  constructor(private readonly host: PublisherHost) {}

  publish(routingKey: string, env: Envelope, opts: PublishOptions = {}): Promise<void> {
    const content = encodeMessage(env);
    return this.publishContent(
      opts.exchange ?? 'work',
      routingKey,
      content,
      envelopeProperties(env, opts.headers),
      opts,
    );
  }

  send(env: Envelope, opts: Omit<PublishOptions, 'exchange'> = {}): Promise<void> {
    return this.publish(stageRoutingKey(env.stage), env, opts);
  }

  publishEvent(name: string, env: Envelope, opts: Omit<PublishOptions, 'exchange'> = {}): Promise<void> {
    return this.publish(eventRoutingKey(name), env, opts);
  }

  async sendMany(
    envs: readonly Envelope[],
    maxItems: number,
    opts: Omit<PublishOptions, 'exchange'> = {},
  ): Promise<void> {
    const byStage = new Map<string, Envelope[]>();
    for (const env of envs) {
      const list = byStage.get(env.stage);
      if (list) list.push(env);
      else byStage.set(env.stage, [env]);
    }
    // Room for the array's brackets and commas is counted by chunkBatches; keep a margin for properties.
    const maxBytes = Math.max(1, this.host.maxMessageBytes - 1024);
    const chunks = [...byStage.values()].flatMap((list) => chunkBatches(list, Math.max(1, maxItems), maxBytes));
    await Promise.all(
      chunks.map(({ envs: chunk, body }) => {
        const [only] = chunk;
        if (chunk.length === 1 && only) return this.send(only, opts);
        return this.publishContent(
          'work',
          stageRoutingKey(chunk[0]?.stage ?? ''),
          body,
          batchProperties(chunk, opts.headers),
          opts,
        );
      }),
    );
  }

  /**
   * Publish raw bytes and wait for the confirm. A confirm lost with its channel (reconnect) is
   * retried on the next channel until the timeout, so a duplicate is possible, a loss is not.
   */
  async publishContent(
    role: ExchangeRole,
    routingKey: string,
    content: Buffer,
    properties: Options.Publish,
    opts: Pick<PublishOptions, 'timeoutMs' | 'signal'> = {},
  ): Promise<void> {
    if (content.length > this.host.maxMessageBytes) {
      // The broker would close the channel on this publish, and on every retry of it: a loop that
      // never ends (the job, or a whole run's expansion, stuck). Refuse it once, for good.
      this.host.metrics?.published.inc({ role: metricRole[role], outcome: BrokerErrorCodes.messageTooLarge });
      throw new PermanentError(
        BrokerErrorCodes.messageTooLarge,
        `message of ${content.length} bytes for ${routingKey} is over the broker's limit of ${this.host.maxMessageBytes}`,
        { details: { size: content.length, limit: this.host.maxMessageBytes, routingKey } },
      );
    }
    const deadline = Date.now() + (opts.timeoutMs ?? this.host.publishTimeoutMs);
    // Events are fire-and-forget notifications with no queue bound by default; stage traffic must
    // reach a queue, so the broker returns it when it does not.
    const mandatory = !routingKey.startsWith('event.');
    const exchange = this.host.names.exchanges[role];
    try {
      for (let tries = 1; ; tries++) {
        if (opts.signal?.aborted) {
          throw new RetryableError(BrokerErrorCodes.publishAborted, 'publish abandoned by its caller');
        }
        const handle = await this.channel(deadline, opts.signal);
        await this.waitWritable(handle, deadline, opts.signal);
        if (!handle.open) continue;
        const result = await this.sendOnce(handle, exchange, routingKey, content, { ...properties, mandatory });
        if (result === 'confirmed') break;
        this.host.logger.debug({ exchange, routingKey, tries }, 'confirm lost with its channel; publishing again');
        // A channel that keeps dying on a live connection (say, its exchange was deleted) must not
        // turn this loop into a busy one.
        await sleep(
          Math.min(fullJitterDelay(tries, { baseMs: 50, capMs: 1_000 }), Math.max(0, deadline - Date.now())),
          opts.signal,
        );
      }
      this.host.metrics?.published.inc({ role: metricRole[role], outcome: 'confirmed' });
    } catch (err) {
      const outcome = err instanceof RetryableError ? err.code : 'failed';
      this.host.metrics?.published.inc({ role: metricRole[role], outcome });
      throw err;
    }
  }

  /** Called for every new connection: open the confirm channel before the connection counts as up. */
  async attach(session: Session): Promise<void> {
    if (this.handle?.open && this.handle.generation === session.generation) return;
    await this.openOn(session);
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }

  private openOn(session: Session): Promise<ChannelHandle<ConfirmChannel>> {
    this.opening ??= (async () => {
      try {
        const handle = await openConfirmChannel(session, this.host.logger, 'publisher');
        this.returned = new Map();
        handle.channel.on('return', (msg: Message) => this.onReturn(msg));
        this.handle = handle;
        return handle;
      } finally {
        this.opening = undefined;
      }
    })();
    return this.opening;
  }

  private async channel(deadline: number, signal?: AbortSignal): Promise<ChannelHandle<ConfirmChannel>> {
    for (;;) {
      if (this.handle?.open) return this.handle;
      const session = this.host.currentSession();
      if (session && !session.lost) {
        try {
          return await this.openOn(session);
        } catch (err) {
          // The connection is probably going away; wait for the next one below.
          this.host.logger.debug({ err }, 'could not open a publisher channel');
        }
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw unavailable('no broker connection');
      try {
        await this.host.waitUntilConnected(Math.min(remaining, 1_000), signal);
      } catch (err) {
        if (signal?.aborted)
          throw new RetryableError(BrokerErrorCodes.publishAborted, 'publish abandoned by its caller');
        if (Date.now() >= deadline) throw unavailable('no broker connection', err);
      }
    }
  }

  /** Back-pressure: wait while the broker blocks the connection and while the channel buffer is full. */
  private async waitWritable(handle: ChannelHandle, deadline: number, signal?: AbortSignal): Promise<void> {
    for (const [gate, what] of [
      [this.host.unblocked, 'broker blocked publishing (resource alarm)'],
      [handle.writable, 'publish buffer did not drain'],
    ] as const) {
      const result = await gate.wait(deadline - Date.now(), signal);
      if (result === 'timeout') throw unavailable(what);
      if (result === 'aborted')
        throw new RetryableError(BrokerErrorCodes.publishAborted, 'publish abandoned by its caller');
    }
  }

  private sendOnce(
    handle: ChannelHandle<ConfirmChannel>,
    exchange: string,
    routingKey: string,
    content: Buffer,
    properties: Options.Publish,
  ): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      const messageId = typeof properties.messageId === 'string' ? properties.messageId : undefined;
      let ok: boolean;
      try {
        ok = handle.channel.publish(exchange, routingKey, content, properties, (err: unknown) => {
          if (err === null || err === undefined) {
            if (properties.mandatory && messageId !== undefined && this.takeReturned(messageId)) {
              reject(new RetryableError(BrokerErrorCodes.unroutable, `no queue bound for ${exchange} ${routingKey}`));
            } else {
              resolve('confirmed');
            }
          } else if (!handle.open) {
            resolve('channel_closed');
          } else {
            reject(
              new RetryableError(
                BrokerErrorCodes.brokerNack,
                `broker refused the message for ${exchange} ${routingKey}`,
              ),
            );
          }
        });
      } catch (err) {
        if (!handle.open) resolve('channel_closed');
        else reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (!ok) handle.writable.shut();
    });
  }

  private onReturn(msg: Message): void {
    const id: unknown = msg.properties.messageId;
    this.host.logger.warn(
      { exchange: msg.fields.exchange, routingKey: msg.fields.routingKey, messageId: id },
      'broker returned an unroutable message',
    );
    if (typeof id === 'string') this.returned.set(id, (this.returned.get(id) ?? 0) + 1);
  }

  private takeReturned(messageId: string): boolean {
    const n = this.returned.get(messageId);
    if (n === undefined) return false;
    if (n <= 1) this.returned.delete(messageId);
    else this.returned.set(messageId, n - 1);
    return true;
  }
}

function unavailable(what: string, cause?: unknown): RetryableError {
  return new RetryableError(
    ErrorCodes.brokerUnavailable,
    `broker unavailable: ${what}`,
    cause === undefined ? {} : { cause },
  );
}
