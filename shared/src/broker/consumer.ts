import { randomBytes } from 'node:crypto';
import type { ConsumeMessage } from 'amqplib';
import { describeError, ErrorCodes } from '../errors/index.js';
import type { Logger } from '../logger/index.js';
import { decodeMessage, encodeMessage, type Envelope, type MessageCatalog, type Stage } from '../messages/index.js';
import type { FleetMetrics } from '../metrics/index.js';
import { fullJitterDelay, sleep } from './backoff.js';
import { openChannel, type ChannelHandle, type Session } from './channel-handle.js';
import { Gate } from './gate.js';
import { deadLetterHeaders, FailureHeaders, headerNumber, retryHeaders, type HeaderTable } from './headers.js';
import { stageRoutingKey, type TopologyNames } from './names.js';
import { asError, decideOutcome, runGuarded, type Outcome } from './outcome.js';
import { envelopeProperties, type ConfirmPublisher } from './publisher.js';

export type HandlerContext = {
  headers: HeaderTable;
  /** Earlier deliveries of this message that ended without an ack (the quorum queue's `x-delivery-count`; 0 at first). */
  deliveryCount: number;
  redelivered: boolean;
  /** Aborts on the handler's timeout, and when the delivery's channel closes (its ack could no longer be sent). */
  signal: AbortSignal;
  logger: Logger;
};

/** A stage handler: publish next-stage messages through the publisher, then return; throw to fail. */
export type MessageHandler = (env: Envelope, ctx: HandlerContext) => Promise<void>;

export type ConsumeOptions = {
  /** The stage whose queue is consumed, and the routing key of retries. */
  stage: Stage;
  /** Consume this queue instead of the stage's own (the dead-letter feed). */
  queue?: string;
  /**
   * Raw bytes → the envelope to handle. Default: decode and validate against the catalog for this
   * stage. Returning undefined acks the message without handling it.
   */
  decode?: (content: Buffer, headers: HeaderTable) => Envelope | undefined;
  /**
   * A permanent failure dead-letters the message (default), or drops it: for a feed whose messages
   * already sit in a DLQ, a second dead letter would only be a copy.
   */
  onPermanent?: 'dead_letter' | 'drop';
  /** Messages handled at once; also the prefetch. Default: the connection's prefetch. */
  concurrency?: number;
  handler: MessageHandler;
  logger?: Logger;
};

/** What a consumer needs from its connection. */
export interface ConsumerHost {
  readonly names: TopologyNames;
  readonly delayTiersMs: readonly number[];
  readonly catalog: MessageCatalog;
  readonly metrics: FleetMetrics | undefined;
  readonly publisher: ConfirmPublisher;
  readonly closeSignal: AbortSignal;
  currentSession(): Session | undefined;
  redeclareTopology(): Promise<void>;
  consumerCancelled(stage: Stage): void;
}

type Labels = { kind: string; type: string };

/** One stage's subscription; survives reconnects (the connection re-attaches it to each new session). */
export class StageConsumer {
  readonly stage: Stage;
  readonly queue: string;
  readonly concurrency: number;
  private readonly decode: ((content: Buffer, headers: HeaderTable) => Envelope | undefined) | undefined;
  private readonly onPermanent: 'dead_letter' | 'drop';
  private readonly handler: MessageHandler;
  private readonly logger: Logger;
  private handle: ChannelHandle | undefined;
  private consumerTag: string | undefined;
  private stopped = false;
  private resubscribing = false;
  private attachChain: Promise<void> = Promise.resolve();
  private active = 0;
  private readonly idle = new Gate(true);
  // Deliveries already acked or nacked: settling one twice would close the channel (unknown tag).
  private readonly settled = new WeakSet<ConsumeMessage>();

  constructor(
    private readonly host: ConsumerHost,
    opts: ConsumeOptions & { concurrency: number; logger: Logger },
  ) {
    this.stage = opts.stage;
    this.queue = opts.queue ?? host.names.queue(opts.stage);
    this.decode = opts.decode;
    this.onPermanent = opts.onPermanent ?? 'dead_letter';
    this.concurrency = opts.concurrency;
    this.handler = opts.handler;
    this.logger = opts.logger.child({ stage: opts.stage });
  }

  /** Messages whose handler (or outcome publish) is still running. */
  inFlight(): number {
    return this.active;
  }

  isConsuming(): boolean {
    return !this.stopped && this.consumerTag !== undefined && this.handle?.open === true;
  }

  /** Subscribe on `session` (idempotent; serialised so a reconnect and a resubscribe never race). */
  attach(session: Session): Promise<void> {
    const previous = this.attachChain;
    this.attachChain = (async () => {
      await previous.catch(() => undefined);
      await this.subscribe(session);
    })();
    return this.attachChain;
  }

  /** Cancel the subscription but keep the channel, so in-flight messages can still be acked. */
  async stop(): Promise<void> {
    this.stopped = true;
    const handle = this.handle;
    const tag = this.consumerTag;
    this.consumerTag = undefined;
    if (!handle?.open || tag === undefined) return;
    try {
      await handle.channel.cancel(tag);
    } catch (err) {
      this.logger.debug({ err }, 'cancel failed (channel already gone)');
    }
  }

  /** Wait until no message is in flight; false if `timeoutMs` passed first. */
  async drain(timeoutMs = Infinity): Promise<boolean> {
    return (await this.idle.wait(timeoutMs)) === 'open';
  }

  /** Stop and close the channel: unacked messages go back to the queue, running handlers are aborted. */
  async shutdown(): Promise<void> {
    await this.stop();
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  private async subscribe(session: Session): Promise<void> {
    if (this.stopped || session.lost) return;
    let handle = this.handle;
    if (!handle?.open || handle.generation !== session.generation) {
      const fresh = await openChannel(session, this.logger, `consumer:${this.stage}`);
      fresh.channel.on('close', () => this.onChannelClosed(fresh));
      await fresh.channel.prefetch(this.concurrency);
      this.handle = handle = fresh;
      this.consumerTag = undefined;
    }
    if (this.consumerTag !== undefined) return;
    const tag = `${this.queue}.${randomBytes(6).toString('hex')}`;
    const channelHandle = handle;
    this.consumerTag = tag;
    try {
      await handle.channel.consume(this.queue, (msg) => this.onMessage(channelHandle, msg), {
        noAck: false,
        consumerTag: tag,
      });
    } catch (err) {
      if (this.consumerTag === tag) this.consumerTag = undefined;
      throw err;
    }
    if (this.stopped) await this.stop();
    this.logger.debug({ generation: session.generation }, 'consuming');
  }

  private onChannelClosed(handle: ChannelHandle): void {
    if (handle !== this.handle) return;
    this.handle = undefined;
    this.consumerTag = undefined;
    // On a lost connection the reconnect re-attaches every consumer; a channel that died on a live
    // connection (e.g. a precondition error) is re-opened here. amqplib closes the channels before
    // it reports the connection closed, so look at the session only after this I/O turn.
    setImmediate(() => {
      const session = this.host.currentSession();
      if (session && !session.lost) this.resubscribe(false);
    });
  }

  private resubscribe(redeclare: boolean): void {
    if (this.resubscribing || this.stopped) return;
    this.resubscribing = true;
    void (async () => {
      try {
        for (let attempt = 1; !this.stopped && !this.host.closeSignal.aborted; attempt++) {
          const session = this.host.currentSession();
          if (!session || session.lost || this.isConsuming()) return;
          try {
            if (redeclare) await this.host.redeclareTopology();
            await this.attach(session);
            this.logger.info('re-subscribed');
            return;
          } catch (err) {
            const delayMs = fullJitterDelay(attempt, { baseMs: 200, capMs: 10_000 });
            this.logger.warn({ err: asError(err), attempt, delayMs }, 're-subscribe failed; trying again');
            await sleep(delayMs, this.host.closeSignal);
          }
        }
      } finally {
        this.resubscribing = false;
      }
    })();
  }

  private onMessage(handle: ChannelHandle, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled us (e.g. the queue was deleted): re-declare the topology and subscribe again.
      this.logger.warn('consumer cancelled by the broker; re-subscribing');
      if (handle === this.handle) this.consumerTag = undefined;
      this.host.consumerCancelled(this.stage);
      this.resubscribe(true);
      return;
    }
    this.active++;
    this.idle.shut();
    this.host.metrics?.inFlight.inc({ stage: this.stage });
    void this.process(handle, msg)
      .catch((err: unknown) => {
        // Last resort, so the message is not stuck unacked until the channel closes.
        this.settleDelivery(handle, msg, 'requeue', this.logger);
        try {
          this.logger.error({ err: asError(err) }, 'unexpected failure while handling a message; requeued it');
        } catch {
          // Even a broken logger must not turn this into an unhandled rejection.
        }
      })
      .finally(() => {
        this.active--;
        this.host.metrics?.inFlight.dec({ stage: this.stage });
        if (this.active === 0) this.idle.open();
      });
  }

  private async process(handle: ChannelHandle, msg: ConsumeMessage): Promise<void> {
    const started = performance.now();
    const headers: HeaderTable = msg.properties.headers ?? {};
    let env: Envelope | undefined;
    try {
      env = this.decode ? this.decode(msg.content, headers) : decodeMessage(msg.content, this.host.catalog, this.stage);
    } catch (err) {
      const failure = describeError(err);
      this.logger.warn({ code: failure.code, err: asError(err) }, 'undecodable message; dead-lettering it');
      const attempts = headerNumber(headers, FailureHeaders.attempt) ?? 1;
      const outcome: Outcome =
        this.onPermanent === 'drop'
          ? { action: 'ack' }
          : { action: 'dead_letter', failure: { code: failure.code, message: failure.message } };
      await this.settle(
        handle,
        msg,
        outcome,
        undefined,
        attempts,
        { kind: 'unknown', type: 'invalid' },
        started,
        this.logger,
      );
      return;
    }
    if (env === undefined) {
      await this.settle(
        handle,
        msg,
        { action: 'ack' },
        undefined,
        1,
        { kind: 'none', type: 'skipped' },
        started,
        this.logger,
      );
      return;
    }
    const current = env;
    // Quorum queues tell no head age over AMQP: the message just taken waited about as long as any.
    if (this.queue === this.host.names.queue(this.stage)) {
      const waitedMs = Date.now() - Date.parse(env.sentAt);
      if (Number.isFinite(waitedMs))
        this.host.metrics?.queueOldestAge.set({ stage: this.stage, role: 'work' }, Math.max(0, waitedMs) / 1000);
    }
    const log = this.logger.child({ runId: env.runId, jobId: env.jobId, type: env.type, attempt: env.attempt });
    const labels = { kind: env.kind, type: env.type };
    const entry = this.host.catalog.entry(env.type);
    if (!entry) {
      // decodeMessage already rejects unknown types; a type unregistered since is still permanent.
      const outcome: Outcome = {
        action: 'dead_letter',
        failure: { code: ErrorCodes.schemaViolation, message: `unknown type ${env.type}` },
      };
      await this.settle(handle, msg, outcome, env, env.attempt, labels, started, log);
      return;
    }
    const error = await runGuarded(
      (signal) =>
        this.handler(current, {
          headers,
          deliveryCount: headerNumber(headers, 'x-delivery-count') ?? 0,
          redelivered: msg.fields.redelivered,
          signal,
          logger: log,
        }),
      entry.timeoutMs,
      handle.closedSignal,
    );
    let outcome = decideOutcome(error, env.attempt, entry, this.host.delayTiersMs);
    if (outcome.action === 'dead_letter' && this.onPermanent === 'drop') {
      log.warn({ err: asError(error), code: outcome.failure.code }, 'dropping a feed message its handler cannot take');
      outcome = { action: 'ack' };
    }
    if (outcome.action !== 'ack')
      log.warn({ err: asError(error), action: outcome.action, code: outcome.failure.code }, 'handler failed');
    await this.settle(handle, msg, outcome, env, env.attempt, labels, started, log);
  }

  /** Carry out an outcome: publish the retry copy or the dead letter with a confirm, THEN ack. */
  private async settle(
    handle: ChannelHandle,
    msg: ConsumeMessage,
    outcome: Outcome,
    env: Envelope | undefined,
    attempts: number,
    labels: Labels,
    started: number,
    log: Logger,
  ): Promise<void> {
    let result: string = outcome.action;
    if (!handle.open) {
      // Its channel is gone: the broker has already put the message back; acting now would duplicate it.
      log.info({ action: outcome.action }, 'delivery went stale (channel closed); the broker redelivers it');
      result = 'stale';
    } else {
      try {
        if (outcome.action === 'retry' && env) await this.publishRetry(handle, msg, env, outcome);
        else if (outcome.action === 'dead_letter') await this.publishDeadLetter(handle, msg, outcome, attempts);
        this.settleDelivery(handle, msg, 'ack', log);
      } catch (err) {
        log.warn(
          { err: asError(err), action: outcome.action },
          'could not publish the outcome; handing the message back to the queue',
        );
        this.settleDelivery(handle, msg, 'requeue', log);
        result = 'requeued';
      }
    }
    this.host.metrics?.jobs.inc({ stage: this.stage, kind: labels.kind, type: labels.type, outcome: result });
    this.host.metrics?.stageDuration.observe(
      { stage: this.stage, kind: labels.kind, outcome: result },
      (performance.now() - started) / 1000,
    );
  }

  private async publishRetry(
    handle: ChannelHandle,
    msg: ConsumeMessage,
    env: Envelope,
    outcome: Extract<Outcome, { action: 'retry' }>,
  ): Promise<void> {
    const now = new Date();
    const next: Envelope = { ...env, attempt: env.attempt + 1, sentAt: now.toISOString() };
    const headers = retryHeaders(msg.properties.headers, {
      failure: outcome.failure,
      stage: this.stage,
      attempt: env.attempt,
      tierMs: outcome.tierMs,
      now,
    });
    await this.host.publisher.publishContent(
      'retry',
      stageRoutingKey(this.stage),
      encodeMessage(next),
      envelopeProperties(next, headers),
      { signal: handle.closedSignal },
    );
  }

  private async publishDeadLetter(
    handle: ChannelHandle,
    msg: ConsumeMessage,
    outcome: Extract<Outcome, { action: 'dead_letter' }>,
    attempts: number,
  ): Promise<void> {
    const headers = deadLetterHeaders(msg.properties.headers, {
      failure: outcome.failure,
      stage: this.stage,
      attempts,
      routingKey: stageRoutingKey(this.stage),
      now: new Date(),
      ...(outcome.lastError ? { lastError: outcome.lastError } : {}),
    });
    const p = msg.properties;
    // The original bytes, unchanged (also when they are not even JSON).
    await this.host.publisher.publishContent(
      'dlx',
      stageRoutingKey(this.stage),
      msg.content,
      {
        persistent: true,
        contentType: typeof p.contentType === 'string' ? p.contentType : 'application/octet-stream',
        ...(typeof p.messageId === 'string' ? { messageId: p.messageId } : {}),
        ...(typeof p.type === 'string' ? { type: p.type } : {}),
        timestamp: typeof p.timestamp === 'number' ? p.timestamp : Math.floor(Date.now() / 1000),
        headers,
      },
      { signal: handle.closedSignal },
    );
  }

  private settleDelivery(handle: ChannelHandle, msg: ConsumeMessage, how: 'ack' | 'requeue', log: Logger): void {
    if (this.settled.has(msg)) return;
    this.settled.add(msg);
    if (!handle.open) {
      log.info({ how }, 'dropping the settlement of a stale delivery (its channel closed)');
      return;
    }
    try {
      if (how === 'ack') handle.channel.ack(msg);
      else handle.channel.nack(msg, false, true);
    } catch (err) {
      log.warn({ err, how }, 'could not settle the delivery; the broker redelivers it');
    }
  }
}
