import type { Redis } from 'ioredis';
import { z } from 'zod';
import {
  connectBroker,
  recordQueueDepths,
  type BrokerConnection,
  type ConsumeOptions,
  type MessageHandler,
} from '../broker/index.js';
import { commonConfigShape, loadConfig, metricsPortField, type Env } from '../config/index.js';
import { startOpsServer } from '../http/index.js';
import { ShutdownCoordinator } from '../lifecycle/index.js';
import { createLogger, type Logger } from '../logger/index.js';
import { createMetrics, type FleetMetrics } from '../metrics/index.js';
import type { Stage } from '../messages/index.js';
import { loadKindRegistry } from '../kinds/index.js';
import { createRedis } from '../redis/index.js';
import { addJobs, RunCounters, StageProgress } from '../runs/index.js';
import { Router, stageHandlers, type Capabilities, type CapabilityName, type KindRegistry } from '../workflow/index.js';
import { artifactStoreConfigFromEnv, createArtifactStore, type ArtifactStore } from '../storage/index.js';
import type { Bus } from './bus.js';

export const serviceConfigShape = {
  ...commonConfigShape,
  METRICS_PORT: metricsPortField(0),
  METRICS_HOST: z.string().default('0.0.0.0'),
  /** How often queue and dead-letter depths are sampled into metrics (0 = never). */
  QUEUE_DEPTH_INTERVAL_MS: z.coerce.number().int().min(0).default(15_000),
  EVALFLEET_INSTANCE: z.string().optional(),
  /**
   * Delay tiers of the retry queues, comma-separated ms (default: the catalog's 1 s, 5 s, 30 s, 2 min).
   * Every service of a namespace must use the same tiers; fault tests shorten them.
   */
  BROKER_DELAY_TIERS_MS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated milliseconds')
    .transform((v) => v.split(',').map(Number))
    .optional(),
  /** The broker's `max_message_size` when it is below RabbitMQ's default 128 MiB: larger publishes fail fast. */
  BROKER_MAX_MESSAGE_BYTES: z.coerce.number().int().positive().optional(),
};

export type ServiceConfig = z.infer<z.ZodObject<typeof serviceConfigShape>>;

/** What a service's handlers receive: every client, built once in the composition root. */
export type ServiceContext<C> = {
  config: C & ServiceConfig;
  env: Env;
  logger: Logger;
  metrics: FleetMetrics;
  store: ArtifactStore;
  redis: Redis;
  broker: BrokerConnection;
  bus: Bus;
  /** The kinds this fleet runs: catalog, stages, pipelines. */
  registry: KindRegistry;
  /** Routes a step's outcome to the job's next message or result. */
  router: Router;
  /** Per-stage progress counts of runs, batched to Redis (`status` reads them). */
  progress: StageProgress;
};

export type ConsumerSpec = { stage: Stage; concurrency: number; handler: MessageHandler } & Pick<
  ConsumeOptions,
  'queue' | 'decode' | 'onPermanent'
>;

export type ServiceDefinition<S extends z.ZodRawShape> = {
  name: string;
  /** Service-specific config fields, merged with the shared ones. */
  configShape: S;
  /** Builds the service's own clients and returns its consumers (and an optional close step). */
  setup(
    ctx: ServiceContext<z.infer<z.ZodObject<S>>>,
  ): Promise<{ consumers: ConsumerSpec[]; close?: () => Promise<void> }>;
};

export type RunningService = { opsUrl: string; shutdown(): Promise<void>; coordinator: ShutdownCoordinator };

/**
 * The composition root every service shares: config → logger → metrics → ops server →
 * store, Redis, broker → consumers → lifecycle. On SIGTERM: readiness off, stop consuming,
 * let in-flight handlers finish, close connections, exit 128 + signal.
 */
export async function runService<S extends z.ZodRawShape>(
  def: ServiceDefinition<S>,
  opts: { env?: Env; cwd?: string; installSignals?: boolean; exit?: (code: number) => void } = {},
): Promise<RunningService> {
  const env = opts.env ?? process.env;
  const schema = z.object({ ...serviceConfigShape, ...def.configShape });
  const config = loadConfig(schema, env) as z.infer<z.ZodObject<S>> & ServiceConfig;
  const logger = createLogger(
    { service: def.name, ...(config.EVALFLEET_INSTANCE ? { instance: config.EVALFLEET_INSTANCE } : {}) },
    { level: config.LOG_LEVEL },
  );
  const metrics = createMetrics({ service: def.name });
  const coordinator = new ShutdownCoordinator({
    logger,
    deadlineMs: config.SHUTDOWN_TIMEOUT_MS,
    ...(opts.exit ? { exit: opts.exit } : {}),
  });
  if (opts.installSignals !== false) coordinator.install();

  const live: { broker?: BrokerConnection } = {};
  const ops = await startOpsServer({
    port: config.METRICS_PORT,
    host: config.METRICS_HOST,
    registry: metrics.registry,
    isReady: () => coordinator.isReady() && (live.broker?.isConnected() ?? false),
  });

  const registry = await loadKindRegistry({ modules: config.EVALFLEET_KINDS, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
  const store = createArtifactStore(artifactStoreConfigFromEnv(env, opts.cwd));
  await store.ensureReady();
  const redis = createRedis(
    { url: config.REDIS_URL, keyPrefix: `${config.EVALFLEET_NAMESPACE}:`, connectionName: def.name },
    logger,
  );
  const broker = await connectBroker({
    url: config.RABBITMQ_URL,
    namespace: config.EVALFLEET_NAMESPACE,
    logger,
    metrics,
    catalog: registry.catalog,
    connectionName: config.EVALFLEET_INSTANCE ?? def.name,
    ...(config.BROKER_DELAY_TIERS_MS ? { delayTiersMs: config.BROKER_DELAY_TIERS_MS } : {}),
    ...(config.BROKER_MAX_MESSAGE_BYTES ? { maxMessageBytes: config.BROKER_MAX_MESSAGE_BYTES } : {}),
  });
  live.broker = broker;
  const connected = broker;
  const bus: Bus = {
    publish: (e) => connected.publisher.send(e),
    publishEvent: (name, e) => connected.publisher.publishEvent(name, e),
    publishMany: (envs, maxItems) => connected.publisher.sendMany(envs, maxItems),
  };
  const router = new Router(registry, bus);
  const progress = new StageProgress(new RunCounters(redis), (err) =>
    logger.debug({ err }, 'stage progress not recorded'),
  );
  const ctx: ServiceContext<z.infer<z.ZodObject<S>>> = {
    config,
    env,
    logger,
    metrics,
    store,
    redis,
    broker,
    bus,
    registry,
    router,
    progress,
  };
  const built = await def.setup(ctx);
  for (const c of built.consumers) {
    await broker.consume({
      stage: c.stage,
      concurrency: c.concurrency,
      handler: c.handler,
      logger,
      ...(c.queue ? { queue: c.queue } : {}),
      ...(c.decode ? { decode: c.decode } : {}),
      ...(c.onPermanent ? { onPermanent: c.onPermanent } : {}),
    });
  }

  // Queue depths (work, dead-letter) as gauges; KEDA and the dashboards read them.
  const sampler =
    config.QUEUE_DEPTH_INTERVAL_MS > 0
      ? setInterval(() => {
          recordQueueDepths(connected, metrics).catch((err: unknown) =>
            logger.debug({ err }, 'queue depth sample failed'),
          );
        }, config.QUEUE_DEPTH_INTERVAL_MS)
      : undefined;
  sampler?.unref();
  coordinator.addHook('queue-depth-sampler', () => clearInterval(sampler));

  // Hooks run in this order on shutdown; readiness is off from the first signal, and the ops
  // server closes last so /metrics shows the drain.
  coordinator.addHook('stop-consuming', () => connected.stopConsuming());
  coordinator.addHook('drain-in-flight', () => connected.drain());
  coordinator.addHook('progress-flush', () => progress.flush());
  if (built.close) coordinator.addHook('service-close', built.close);
  coordinator.addHook('broker', () => connected.close());
  coordinator.addHook('redis', async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  coordinator.addHook('store', () => store.close());
  coordinator.addHook('ops-server', () => ops.close());
  coordinator.markRunning();
  logger.info(
    { ops: ops.url, consumers: built.consumers.map((c) => `${c.stage}×${c.concurrency}`), store: store.describe() },
    'service running',
  );
  return { opsUrl: ops.url, shutdown: () => coordinator.shutdown(), coordinator };
}

/**
 * The consumers of a worker: every registered stage whose capability this service provides, each
 * dispatching by message type to the kinds' handlers (and the platform's, if any). Each outcome a
 * handler emits is counted per run and stage (`status`, `watch`) and in the step metric.
 */
export async function hostStages<C>(
  ctx: ServiceContext<C>,
  opts: {
    provides: readonly CapabilityName[];
    caps: Capabilities;
    concurrency: number;
    platform?: ReadonlyMap<string, MessageHandler>;
    extraStages?: readonly Stage[];
  },
): Promise<ConsumerSpec[]> {
  const stages = [...new Set([...ctx.registry.stagesFor(opts.provides), ...(opts.extraStages ?? [])])];
  const counters = new RunCounters(ctx.redis);
  const handlers = await stageHandlers({
    registry: ctx.registry,
    router: ctx.router,
    stages,
    caps: opts.caps,
    store: ctx.store,
    logger: ctx.logger,
    ...(opts.platform ? { platform: opts.platform } : {}),
    addJobs: (runId, jobId, count) => addJobs({ store: ctx.store, counters }, runId, jobId, count),
    onStep: (step) => {
      ctx.metrics.steps.inc({ stage: step.stage, kind: step.kind, type: step.type, outcome: step.outcome });
      ctx.progress.add(step.runId, step.progress ? `${step.stage}/${step.progress}` : step.stage, step.outcome);
    },
  });
  return [...handlers].map(([stage, handler]) => ({ stage, concurrency: opts.concurrency, handler }));
}
