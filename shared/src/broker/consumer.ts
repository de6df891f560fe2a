import { randomBytes } from 'node:crypto';
import type { ConsumeMessage } from 'amqplib';
import { BATCH_HEADER, batchItems, isBatchBody, itemBytes, itemProperties, MAX_EMITTED_BATCH } from './batch.js';
import { describeError, ErrorCodes } from '../errors/index.js';
import type { Logger } from '../logger/index.js';
import { decodeEnvelope, decodeMessage, type Envelope, type MessageCatalog, type Stage } from '../messages/index.js';
import type { FleetMetrics } from '../metrics/index.js';
import { fullJitterDelay, sleep } from './backoff.js';
import { openChannel, type ChannelHandle, type Session } from './channel-handle.js';
import { Gate, Slots } from './gate.js';
import { carriedHeaders, FailureHeaders, headerNumber, type HeaderTable } from './headers.js';
import { stageRoutingKey, type TopologyNames } from './names.js';
import { asError, decideOutcome, runGuarded, type Outcome } from './outcome.js';
import { OutcomePublisher } from './outcome-publish.js';
import type { ConfirmPublisher } from './publisher.js';

export type HandlerContext = {
  headers: HeaderTable;
  /** Earlier deliveries of this message that ended without an ack (the quorum queue's `x-delivery-count`; 0 at first). */
  deliveryCount: number;
  redelivered: boolean;
  /** Aborts on the handler's timeout, and when the delivery's channel closes (its ack could no longer be sent). */
  signal: AbortSignal;
  logger: Logger;
  /**
   * Set for an item of a batch message: hand next-stage envelopes here instead of publishing them. The
   * consumer publishes what the batch's items emitted as batch messages of their own before it acks.
   */
  collect?: (env: Envelope) => void;
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
  /**
   * Handlers running at once (the items of batch messages included); also the prefetch, in messages.
   * Default: the connection's prefetch.
   */
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

/** What handling one envelope (a message, or an item of a batch) came to, before it is settled. */
type Handled = {
  outcome: Outcome;
  env: Envelope | undefined;
  attempts: number;
  labels: Labels;
  started: number;
  log: Logger;
};

/** One stage's subscription; survives reconnects (the connection re-attaches it to each new session). */
export class StageConsumer {
  readonly stage: Stage;
  readonly queue: string;
  readonly concurrency: number;
  private readonly decode: ((content: Buffer, headers: HeaderTable) => Envelope | undefined) | undefined;
  private readonly onPermanent: 'dead_letter' | 'drop';
  private readonly handler: MessageHandler;
  private readonly logger: Logger;
  private readonly outcomes: OutcomePublisher;
  private handle: ChannelHandle | undefined;
  private consumerTag: string | undefined;
  private stopped = false;
  private resubscribing = false;
  private attachChain: Promise<void> = Promise.resolve();
  private active = 0;
  private readonly idle = new Gate(true);
  // Deliveries already acked or nacked: settling one twice would close the channel (unknown tag).
  private readonly settled = new WeakSet<ConsumeMessage>();
  // Handler slots per channel, as its prefetch is: the handlers of a channel that closed (aborted, maybe
  // still winding down) do not hold up the deliveries of the next one.
  private readonly slots = new WeakMap<ChannelHandle, Slots>();

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
    this.outcomes = new OutcomePublisher(host.publisher, opts.stage);
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
    if (isBatchBody(msg.content)) return this.processBatch(handle, msg);
    const headers: HeaderTable = msg.properties.headers ?? {};
    const h = await this.handleOne(
      () =>
        this.decode ? this.decode(msg.content, headers) : decodeMessage(msg.content, this.host.catalog, this.stage),
      handle,
      headers,
      { deliveryCount: headerNumber(headers, 'x-delivery-count') ?? 0, redelivered: msg.fields.redelivered },
    );
    await this.settle(handle, msg, h.outcome, h.env, h.attempts, h.labels, h.started, h.log);
  }

  /** Decode one envelope, run its handler (in one of the consumer's slots) and decide its outcome. */
  private async handleOne(
    decode: () => Envelope | undefined,
    handle: ChannelHandle,
    headers: HeaderTable,
    delivery: { deliveryCount: number; redelivered: boolean },
    collect?: (env: Envelope) => void,
  ): Promise<Handled> {
    const started = performance.now();
    let env: Envelope | undefined;
    try {
      env = decode();
    } catch (err) {
      const failure = describeError(err);
      this.logger.warn({ code: failure.code, err: asError(err) }, 'undecodable message; dead-lettering it');
      const outcome: Outcome =
        this.onPermanent === 'drop'
          ? { action: 'ack' }
          : { action: 'dead_letter', failure: { code: failure.code, message: failure.message } };
      const attempts = headerNumber(headers, FailureHeaders.attempt) ?? 1;
      return {
        outcome,
        env: undefined,
        attempts,
        labels: { kind: 'unknown', type: 'invalid' },
        started,
        log: this.logger,
      };
    }
    if (env === undefined) {
      const labels = { kind: 'none', type: 'skipped' };
      return { outcome: { action: 'ack' }, env, attempts: 1, labels, started, log: this.logger };
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
      return { outcome, env, attempts: env.attempt, labels, started, log };
    }
    let slots = this.slots.get(handle);
    if (!slots) this.slots.set(handle, (slots = new Slots(this.concurrency)));
    const error = await slots.run(() =>
      runGuarded(
        (signal) =>
          this.handler(current, {
            headers,
            ...delivery,
            signal,
            logger: log,
            ...(collect ? { collect } : {}),
          }),
        entry.timeoutMs,
        handle.closedSignal,
      ),
    );
    let outcome = decideOutcome(error, env.attempt, entry, this.host.delayTiersMs);
    if (outcome.action === 'dead_letter' && this.onPermanent === 'drop') {
      log.warn({ err: asError(error), code: outcome.failure.code }, 'dropping a feed message its handler cannot take');
      outcome = { action: 'ack' };
    }
    if (outcome.action !== 'ack')
      log.warn({ err: asError(error), action: outcome.action, code: outcome.failure.code }, 'handler failed');
    return { outcome, env, attempts: env.attempt, labels, started, log };
  }

  /**
   * A batch message (batch.ts): on its first delivery every item is handled as a message of its own (its
   * retry or dead letter published alone), what the items emitted is published as batches, THEN the batch
   * is acked; if any of that could not be published the batch goes back whole. A batch delivered again
   * (its consumer died, or it went back) is split into single messages instead, so an item that kills its
   * consumer is retried and dead-lettered alone, and items already done are handled again only as
   * redeliveries of their own, which every stage already takes (results are recorded once).
   */
  private async processBatch(handle: ChannelHandle, msg: ConsumeMessage): Promise<void> {
    const started = performance.now();
    // What the items are decoded and handled with (the broker's own headers too: a dead-letter feed reads
    // x-death); the batch's count is not theirs.
    const headers: HeaderTable = { ...msg.properties.headers };
    delete headers[BATCH_HEADER];
    let items: unknown[];
    try {
      items = batchItems(msg.content);
    } catch (err) {
      const h = await this.handleOne(
        () => {
          throw err;
        },
        handle,
        headers,
        { deliveryCount: 0, redelivered: false },
      );
      await this.settle(handle, msg, h.outcome, undefined, h.attempts, h.labels, started, this.logger);
      return;
    }
    const deliveryCount = headerNumber(msg.properties.headers, 'x-delivery-count') ?? 0;
    if ((msg.fields.redelivered || deliveryCount > 0) && this.queue === this.host.names.queue(this.stage)) {
      await this.splitBatch(handle, msg, items, headers, started);
      return;
    }
    const emitted: Envelope[] = [];
    const collect = (env: Envelope) => {
      emitted.push(env);
    };
    const outcomes = await Promise.all(
      items.map(async (item) => {
        const h = await this.handleOne(
          () =>
            this.decode ? this.decode(itemBytes(item), headers) : decodeEnvelope(item, this.host.catalog, this.stage),
          handle,
          headers,
          { deliveryCount: 0, redelivered: false },
          collect,
        );
        return { h, published: await this.publishItemOutcome(handle, h, item, headers) };
      }),
    );
    let ok = outcomes.every((o) => o.published);
    if (ok && emitted.length > 0) {
      try {
        await this.host.publisher.sendMany(emitted, MAX_EMITTED_BATCH, { signal: handle.closedSignal });
      } catch (err) {
        this.logger.warn({ err: asError(err), emitted: emitted.length }, 'could not publish a batch’s next messages');
        ok = false;
      }
    }
    let result = 'ack';
    if (!handle.open) result = 'stale';
    else if (!ok) result = 'requeued';
    this.settleDelivery(handle, msg, ok ? 'ack' : 'requeue', this.logger);
    for (const { h } of outcomes) this.observe(h.labels, result === 'ack' ? h.outcome.action : result, h.started);
  }

  /** An item's retry copy or dead letter, published alone; false when that could not be done. */
  private async publishItemOutcome(
    handle: ChannelHandle,
    h: Handled,
    item: unknown,
    headers: HeaderTable,
  ): Promise<boolean> {
    if (h.outcome.action === 'ack' || !handle.open) return true;
    try {
      if (h.outcome.action === 'retry' && h.env)
        await this.outcomes.retry(handle.closedSignal, headers, h.env, h.outcome);
      else if (h.outcome.action === 'dead_letter')
        await this.outcomes.deadLetter(
          handle.closedSignal,
          headers,
          itemBytes(item),
          itemProperties(item),
          h.outcome,
          h.attempts,
        );
      return true;
    } catch (err) {
      h.log.warn({ err: asError(err), action: h.outcome.action }, 'could not publish an item’s outcome');
      return false;
    }
  }

  /** A batch delivered again: each item back on the stage's queue as a message of its own, THEN the ack. */
  private async splitBatch(
    handle: ChannelHandle,
    msg: ConsumeMessage,
    items: unknown[],
    headers: HeaderTable,
    started: number,
  ): Promise<void> {
    let result = 'split';
    try {
      await Promise.all(
        items.map((item) =>
          this.host.publisher.publishContent(
            'work',
            stageRoutingKey(this.stage),
            itemBytes(item),
            { ...itemProperties(item), headers: carriedHeaders(headers) },
            { signal: handle.closedSignal },
          ),
        ),
      );
      this.settleDelivery(handle, msg, 'ack', this.logger);
      this.logger.info({ items: items.length }, 'a batch came back; split it into single messages');
    } catch (err) {
      this.logger.warn({ err: asError(err) }, 'could not split a batch; handing it back to the queue');
      this.settleDelivery(handle, msg, 'requeue', this.logger);
      result = 'requeued';
    }
    this.observe({ kind: 'batch', type: 'batch' }, result, started);
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
        const headers = msg.properties.headers;
        if (outcome.action === 'retry' && env) await this.outcomes.retry(handle.closedSignal, headers, env, outcome);
        else if (outcome.action === 'dead_letter')
          await this.outcomes.deadLetter(handle.closedSignal, headers, msg.content, msg.properties, outcome, attempts);
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
    this.observe(labels, result, started);
  }

  /** A settled message (or batch item) in the stage's job counter and duration histogram. */
  private observe(labels: Labels, result: string, started: number): void {
    this.host.metrics?.jobs.inc({ stage: this.stage, kind: labels.kind, type: labels.type, outcome: result });
    this.host.metrics?.stageDuration.observe(
      { stage: this.stage, kind: labels.kind, outcome: result },
      (performance.now() - started) / 1000,
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
