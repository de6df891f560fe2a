import { EventEmitter } from 'node:events';
import { connect, type Channel, type ConfirmChannel } from 'amqplib';
import { ErrorCodes, PermanentError, RetryableError } from '../errors/index.js';
import { redactString, type Logger } from '../logger/index.js';
import { MessageCatalog, type Stage } from '../messages/index.js';
import type { FleetMetrics } from '../metrics/index.js';
import { fullJitterDelay, sleep, type BackoffOptions } from './backoff.js';
import { openChannel, openConfirmChannel, type ChannelHandle, type Session } from './channel-handle.js';
import { StageConsumer, type ConsumeOptions, type ConsumerHost } from './consumer.js';
import { EventSubscription, type EventSubscriptionOptions } from './events.js';
import { Gate } from './gate.js';
import { defaultNamespace, topologyNames, type TopologyNames } from './names.js';
import { ConfirmPublisher, type Publisher, type PublisherHost } from './publisher.js';
import { declareTopology, defaultDeliveryLimit, normaliseDelayTiers, type TopologyOptions } from './topology.js';

export type BrokerOptions = {
  url: string;
  /** Prefix of every exchange and queue name. Default `evalfleet`. */
  namespace?: string;
  /**
   * The message types this fleet exchanges (from the kind registry): consumers validate against it,
   * and its stages are the queues declared. Default: the platform stages only, any type rejected.
   */
  catalog?: MessageCatalog;
  logger: Logger;
  metrics?: FleetMetrics;
  /** Default consumer concurrency (= prefetch) when `consume` does not give one. Default 1. */
  prefetch?: number;
  /** Quorum-queue delivery limit for poison messages. Default 10. */
  deliveryLimit?: number;
  /** Heartbeat in seconds (0 disables). Default 30. */
  heartbeat?: number;
  /** Delay tiers of this namespace's retry queues. Default: the catalog's `delayTiersMs`. */
  delayTiersMs?: readonly number[];
  /** `connection_name` client property (shows in the management UI and `rabbitmqctl list_connections`). */
  connectionName?: string;
  /** How long `connectBroker` keeps trying before it fails. Default 30 s. */
  connectTimeoutMs?: number;
  /** How long a publish waits for a connection, an unblocked broker and its confirm. Default 30 s. */
  publishTimeoutMs?: number;
  /**
   * The broker's `max_message_size`: a larger publish fails at once, permanently. Default 128 MiB
   * (RabbitMQ's default); set it to the broker's when that is lower.
   */
  maxMessageBytes?: number;
  /** Reconnect backoff (full jitter). Default base 100 ms, cap 10 s. */
  reconnectBackoff?: BackoffOptions;
};

/** RabbitMQ's default `max_message_size` (128 MiB). */
export const defaultMaxMessageBytes = 128 * 1024 * 1024;

export type BrokerState = 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed';

export type BrokerEvents = {
  connected: [info: { generation: number; reconnect: boolean }];
  disconnected: [info: { generation: number; error: Error | undefined }];
  blocked: [info: { reason: string }];
  unblocked: [];
  'consumer-cancelled': [info: { stage: Stage }];
};

/**
 * One broker connection that recovers by itself: on loss it reconnects with backoff, re-declares the
 * topology, re-opens the publisher's confirm channel and re-subscribes every consumer. Emits
 * `connected`, `disconnected`, `blocked`, `unblocked` and `consumer-cancelled`; never `error`.
 */
export class BrokerConnection extends EventEmitter<BrokerEvents> {
  readonly namespace: string;
  readonly names: TopologyNames;
  readonly delayTiersMs: readonly number[];
  readonly deliveryLimit: number;
  readonly connectionName: string;
  /** The connection's one confirm-mode publisher; it survives reconnects. */
  readonly publisher: Publisher;
  readonly catalog: MessageCatalog;

  private status: BrokerState = 'connecting';
  private session: Session | undefined;
  private generationCounter = 0;
  private everConnected = false;
  private readonly connectedGate = new Gate(false);
  private readonly unblocked = new Gate(true);
  private readonly closeCtl = new AbortController();
  private readonly logger: Logger;
  private readonly confirmPublisher: ConfirmPublisher;
  private readonly stageConsumers: StageConsumer[] = [];
  private readonly subscriptions = new Set<EventSubscription>();
  private recovery: Promise<void> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly opts: BrokerOptions) {
    super();
    this.namespace = opts.namespace ?? defaultNamespace;
    this.names = topologyNames(this.namespace);
    this.delayTiersMs = normaliseDelayTiers(opts.delayTiersMs);
    this.deliveryLimit = opts.deliveryLimit ?? defaultDeliveryLimit;
    this.connectionName = opts.connectionName ?? `${this.namespace}:${process.pid}`;
    this.catalog = opts.catalog ?? new MessageCatalog([]);
    this.logger = opts.logger.child({ component: 'broker', namespace: this.namespace });
    this.confirmPublisher = new ConfirmPublisher(this.publisherHost());
    this.publisher = this.confirmPublisher;
  }

  get state(): BrokerState {
    return this.status;
  }

  isConnected(): boolean {
    return this.connectedGate.opened;
  }

  isBlocked(): boolean {
    return !this.unblocked.opened;
  }

  /** Generation of the current connection: 1 for the first, +1 for every reconnect. */
  generation(): number {
    return this.session?.generation ?? this.generationCounter;
  }

  /** Resolve once connected; RetryableError `broker_unavailable` after `timeoutMs` or when closed. */
  async waitUntilConnected(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.connectedGate.opened) return;
    const signals = signal ? [signal, this.closeCtl.signal] : [this.closeCtl.signal];
    const result = await this.connectedGate.wait(timeoutMs, AbortSignal.any(signals));
    if (result === 'open') return;
    const why = this.closeCtl.signal.aborted
      ? 'connection closed'
      : result === 'aborted'
        ? 'wait aborted'
        : `not connected after ${timeoutMs} ms`;
    throw new RetryableError(ErrorCodes.brokerUnavailable, `broker unavailable: ${why}`);
  }

  /** The stages (queues) of this fleet, from the catalog. */
  stages(): Stage[] {
    return this.catalog.stages();
  }

  /** Consume a stage's queue: prefetch = concurrency, manual acks, outcome → ack/retry/DLQ. */
  async consume(opts: ConsumeOptions): Promise<StageConsumer> {
    if (this.closing) throw new RetryableError(ErrorCodes.brokerUnavailable, 'broker connection is closing');
    const consumer = new StageConsumer(this.consumerHost(), {
      ...opts,
      concurrency: opts.concurrency ?? this.opts.prefetch ?? 1,
      logger: opts.logger ?? this.logger,
    });
    this.stageConsumers.push(consumer);
    const session = this.session;
    if (session && this.isConnected()) {
      try {
        await consumer.attach(session);
      } catch (err) {
        // The connection is going away; the reconnect attaches this consumer.
        this.logger.warn({ err, stage: opts.stage }, 'could not subscribe yet; will on reconnect');
      }
    }
    return consumer;
  }

  /** Receive run-level events (`event.<name>` on the work exchange) on an own exclusive queue; survives reconnects. */
  async subscribeEvents(opts: EventSubscriptionOptions): Promise<EventSubscription> {
    if (this.closing) throw new RetryableError(ErrorCodes.brokerUnavailable, 'broker connection is closing');
    const sub = new EventSubscription(this.names, opts, this.logger);
    this.subscriptions.add(sub);
    await this.waitUntilConnected(this.opts.publishTimeoutMs ?? 30_000);
    const session = this.session;
    if (session) await sub.attach(session);
    return sub;
  }

  /** Cancel every consumer; channels stay open so in-flight messages can still be acked. */
  async stopConsuming(): Promise<void> {
    await Promise.all(this.stageConsumers.map((c) => c.stop()));
  }

  /**
   * Wait until in-flight handlers have finished, or until `timeoutMs` passed (default: no limit);
   * `inFlight()` afterwards tells which.
   */
  async drain(timeoutMs = Infinity): Promise<void> {
    await Promise.all(this.stageConsumers.map((c) => c.drain(timeoutMs)));
  }

  inFlight(): number {
    return this.stageConsumers.reduce((n, c) => n + c.inFlight(), 0);
  }

  /** Run `fn` on a fresh channel of the current connection, closed afterwards (DLQ tools, admin). */
  async withChannel<T>(fn: (channel: Channel) => Promise<T>, opts: { timeoutMs?: number } = {}): Promise<T> {
    const handle = await this.freshChannel(false, opts.timeoutMs);
    try {
      return await fn(handle.channel);
    } finally {
      await handle.close();
    }
  }

  /** Like `withChannel`, with a confirm-mode channel. */
  async withConfirmChannel<T>(
    fn: (channel: ConfirmChannel) => Promise<T>,
    opts: { timeoutMs?: number } = {},
  ): Promise<T> {
    const handle = await this.freshChannel(true, opts.timeoutMs);
    try {
      return await fn(handle.channel);
    } finally {
      await handle.close();
    }
  }

  /** Declare the namespace's topology again (done automatically on every connect). */
  async redeclareTopology(): Promise<void> {
    await this.withChannel((ch) => declareTopology(ch, this.namespace, this.topologyOptions()));
  }

  /**
   * Stop consuming, wait up to `drainTimeoutMs` for in-flight handlers, then close channels and the
   * connection. Every step runs even if an earlier one fails; calling it again returns the same promise.
   */
  close(opts: { drainTimeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.shutdown(opts.drainTimeoutMs ?? 5_000);
    return this.closing;
  }

  /** First connect (with retries until `connectTimeoutMs`); used by `connectBroker`. */
  async start(): Promise<void> {
    const deadline = Date.now() + (this.opts.connectTimeoutMs ?? 30_000);
    try {
      await this.connectLoop(deadline);
    } catch (err) {
      await this.close({ drainTimeoutMs: 0 });
      throw err;
    }
  }

  private topologyOptions(): TopologyOptions {
    return { deliveryLimit: this.deliveryLimit, delayTiersMs: this.delayTiersMs, stages: this.catalog.stages() };
  }

  private async freshChannel(confirm: true, timeoutMs?: number): Promise<ChannelHandle<ConfirmChannel>>;
  private async freshChannel(confirm: false, timeoutMs?: number): Promise<ChannelHandle>;
  private async freshChannel(
    confirm: boolean,
    timeoutMs = this.opts.publishTimeoutMs ?? 30_000,
  ): Promise<ChannelHandle> {
    await this.waitUntilConnected(timeoutMs);
    const session = this.session;
    if (!session || session.lost) throw new RetryableError(ErrorCodes.brokerUnavailable, 'broker connection lost');
    return confirm ? openConfirmChannel(session, this.logger, 'tool') : openChannel(session, this.logger, 'tool');
  }

  private async connectLoop(deadline?: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.closeCtl.signal.aborted)
        throw new RetryableError(ErrorCodes.brokerUnavailable, 'broker connection closed');
      try {
        await this.establish();
        return;
      } catch (err) {
        // A topology that contradicts ours will not fix itself by reconnecting: fail the first connect.
        if (err instanceof PermanentError && !this.everConnected) throw err;
        const delayMs = fullJitterDelay(attempt, this.opts.reconnectBackoff);
        if (deadline !== undefined && Date.now() + delayMs > deadline) {
          throw new RetryableError(
            ErrorCodes.brokerUnavailable,
            `broker unreachable at ${redactString(this.opts.url)}`,
            {
              cause: err,
            },
          );
        }
        this.logger.warn(
          { err, attempt, delayMs, url: redactString(this.opts.url) },
          'broker connect failed; retrying',
        );
        await sleep(delayMs, this.closeCtl.signal);
      }
    }
  }

  private async establish(): Promise<void> {
    const url = new URL(this.opts.url);
    if (this.opts.heartbeat !== undefined || !url.searchParams.has('heartbeat')) {
      url.searchParams.set('heartbeat', String(this.opts.heartbeat ?? 30));
    }
    const model = await connect(url.toString(), {
      clientProperties: { connection_name: this.connectionName },
      timeout: 10_000,
    });
    const session: Session = { model, generation: ++this.generationCounter, lost: false };
    model.on('error', (err: Error) =>
      this.logger.warn({ err, generation: session.generation }, 'broker connection error'),
    );
    model.on('close', (err?: Error) => this.onSessionLost(session, err));
    model.on('blocked', (reason: string) => this.onBlocked(session, reason));
    model.on('unblocked', () => this.onUnblocked(session));
    if (this.closeCtl.signal.aborted) {
      await closeModel(session);
      throw new RetryableError(ErrorCodes.brokerUnavailable, 'broker connection closed');
    }
    this.session = session;
    try {
      const topology = await openChannel(session, this.logger, 'topology');
      try {
        await declareTopology(topology.channel, this.namespace, this.topologyOptions());
      } finally {
        await topology.close();
      }
      await this.confirmPublisher.attach(session);
      for (const consumer of this.stageConsumers) await consumer.attach(session);
      for (const sub of this.subscriptions) await sub.attach(session);
      if (session.lost) throw new RetryableError(ErrorCodes.brokerUnavailable, 'connection lost during recovery');
    } catch (err) {
      await closeModel(session);
      throw err;
    }
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.status = 'connected';
    this.connectedGate.open();
    this.opts.metrics?.brokerConnected.set(1);
    if (reconnect) this.opts.metrics?.brokerReconnects.inc();
    this.logger.info(
      { generation: session.generation, url: redactString(this.opts.url), reconnect },
      'broker connected',
    );
    this.emitSafely(() => this.emit('connected', { generation: session.generation, reconnect }));
  }

  private onSessionLost(session: Session, err: Error | undefined): void {
    if (session.lost) return;
    session.lost = true;
    if (this.session !== session) return;
    const wasConnected = this.connectedGate.opened;
    this.connectedGate.shut();
    this.onUnblocked(session);
    this.opts.metrics?.brokerConnected.set(0);
    if (this.status === 'closing' || this.status === 'closed') return;
    this.logger.warn({ err, generation: session.generation }, 'broker connection lost');
    this.emitSafely(() => this.emit('disconnected', { generation: session.generation, error: err }));
    // While connecting, the establish in progress fails and its loop carries on.
    if (!wasConnected) return;
    this.status = 'reconnecting';
    this.recovery = this.connectLoop().catch((e: unknown) => {
      if (!this.closeCtl.signal.aborted) this.logger.error({ err: e }, 'broker recovery stopped');
    });
  }

  private onBlocked(session: Session, reason: string): void {
    if (session !== this.session) return;
    this.unblocked.shut();
    this.opts.metrics?.brokerBlocked.set(1);
    this.logger.warn({ reason }, 'broker blocked publishing');
    this.emitSafely(() => this.emit('blocked', { reason }));
  }

  private onUnblocked(session: Session): void {
    if (session !== this.session || this.unblocked.opened) return;
    this.unblocked.open();
    this.opts.metrics?.brokerBlocked.set(0);
    this.logger.info('broker unblocked publishing');
    this.emitSafely(() => this.emit('unblocked'));
  }

  /** A listener that throws must not break recovery. */
  private emitSafely(emit: () => void): void {
    try {
      emit();
    } catch (err) {
      this.logger.error({ err }, 'a broker event listener threw');
    }
  }

  private async shutdown(drainTimeoutMs: number): Promise<void> {
    this.status = 'closing';
    const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        this.logger.warn({ err, step: name }, 'broker close step failed');
      }
    };
    await step('stop consuming', () => this.stopConsuming());
    await step('drain', async () => {
      await this.drain(drainTimeoutMs);
      if (this.inFlight() > 0) this.logger.warn({ inFlight: this.inFlight() }, 'closing with messages in flight');
    });
    this.closeCtl.abort();
    await step('consumers', () => Promise.all(this.stageConsumers.map((c) => c.shutdown())));
    await step('event subscriptions', () => Promise.all([...this.subscriptions].map((s) => s.close())));
    await step('publisher', () => this.confirmPublisher.close());
    await step('connection', async () => {
      const session = this.session;
      this.session = undefined;
      if (session) await closeModel(session);
    });
    await step('recovery', async () => this.recovery);
    this.connectedGate.shut();
    this.opts.metrics?.brokerConnected.set(0);
    this.status = 'closed';
    this.logger.debug('broker connection closed');
  }

  private publisherHost(): PublisherHost {
    return {
      names: this.names,
      logger: this.logger,
      metrics: this.opts.metrics,
      publishTimeoutMs: this.opts.publishTimeoutMs ?? 30_000,
      maxMessageBytes: this.opts.maxMessageBytes ?? defaultMaxMessageBytes,
      unblocked: this.unblocked,
      currentSession: () => this.liveSession(),
      waitUntilConnected: (timeoutMs, signal) => this.waitUntilConnected(timeoutMs, signal),
    };
  }

  private consumerHost(): ConsumerHost {
    return {
      names: this.names,
      delayTiersMs: this.delayTiersMs,
      catalog: this.catalog,
      metrics: this.opts.metrics,
      publisher: this.confirmPublisher,
      closeSignal: this.closeCtl.signal,
      currentSession: () => this.liveSession(),
      redeclareTopology: () => this.redeclareTopology(),
      consumerCancelled: (stage) => this.emitSafely(() => this.emit('consumer-cancelled', { stage })),
    };
  }

  /**
   * The session publishers and consumers may open channels on by themselves: only once `establish`
   * has declared the topology (before that, it attaches them explicitly).
   */
  private liveSession(): Session | undefined {
    const s = this.session;
    return s && !s.lost && this.connectedGate.opened ? s : undefined;
  }
}

async function closeModel(session: Session): Promise<void> {
  session.lost = true;
  try {
    await session.model.close();
  } catch {
    // Already closed by the broker or the network.
  }
}

/** Connect (retrying with backoff until `connectTimeoutMs`) and declare the namespace's topology. */
export async function connectBroker(opts: BrokerOptions): Promise<BrokerConnection> {
  const conn = new BrokerConnection(opts);
  await conn.start();
  return conn;
}
