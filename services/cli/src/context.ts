import type { Redis } from 'ioredis';
import { connectBroker, type BrokerConnection } from '@evalfleet/shared/broker';
import { createLogger, type Logger } from '@evalfleet/shared/logger';
import { createRedis } from '@evalfleet/shared/redis';
import { loadKindRegistry } from '@evalfleet/shared/kinds';
import type { Bus } from '@evalfleet/shared/service';
import { createArtifactStore, type ArtifactStore } from '@evalfleet/shared/storage';
import type { KindRegistry } from '@evalfleet/shared/workflow';
import { loadCliConfig, type CliConfig } from './config.js';
import { CliSignals } from './signals.js';

/**
 * What a command needs, opened lazily so `evalfleet models` never touches the broker and
 * `evalfleet dlq list` never touches S3. `close()` closes whatever was opened.
 */
export class CliContext {
  readonly config: CliConfig;
  readonly logger: Logger;
  private storeInstance: ArtifactStore | undefined;
  private redisInstance: Redis | undefined;
  private brokerInstance: Promise<BrokerConnection> | undefined;
  private registryInstance: Promise<KindRegistry> | undefined;
  /** SIGINT/SIGTERM for every command: the first aborts `signals.signal`, a second forces. */
  readonly signals = new CliSignals();

  constructor(
    env: Record<string, string | undefined>,
    private readonly io: { out: (s: string) => void; err: (s: string) => void },
    readonly cwd = process.cwd(),
  ) {
    this.config = loadCliConfig(env, cwd);
    this.logger = createLogger({ service: 'cli' }, { level: this.config.LOG_LEVEL });
  }

  out(line: string): void {
    this.io.out(line);
  }

  err(line: string): void {
    this.io.err(line);
  }

  store(): ArtifactStore {
    this.storeInstance ??= createArtifactStore(this.config.store);
    return this.storeInstance;
  }

  async redis(): Promise<Redis> {
    this.redisInstance ??= createRedis(
      { url: this.config.REDIS_URL, keyPrefix: `${this.config.EVALFLEET_NAMESPACE}:`, connectionName: 'evalfleet-cli' },
      this.logger,
    );
    return Promise.resolve(this.redisInstance);
  }

  /** The kinds this fleet runs (built-in and `EVALFLEET_KINDS`), as the services load them. */
  registry(): Promise<KindRegistry> {
    this.registryInstance ??= loadKindRegistry({ modules: this.config.EVALFLEET_KINDS, cwd: this.cwd });
    return this.registryInstance;
  }

  broker(): Promise<BrokerConnection> {
    this.brokerInstance ??= this.registry().then((registry) =>
      connectBroker({
        url: this.config.RABBITMQ_URL,
        namespace: this.config.EVALFLEET_NAMESPACE,
        logger: this.logger,
        catalog: registry.catalog,
        connectionName: 'evalfleet-cli',
        connectTimeoutMs: 10_000,
      }),
    );
    return this.brokerInstance;
  }

  async bus(): Promise<Bus> {
    await this.store().ensureReady();
    const broker = await this.broker();
    return {
      publish: (e) => broker.publisher.send(e),
      publishEvent: (name, e) => broker.publisher.publishEvent(name, e),
    };
  }

  async close(): Promise<void> {
    this.signals.dispose();
    const steps: Promise<unknown>[] = [];
    if (this.brokerInstance) steps.push(this.brokerInstance.then((b) => b.close()));
    if (this.redisInstance) steps.push(this.redisInstance.quit());
    if (this.storeInstance) steps.push(this.storeInstance.close());
    await Promise.allSettled(steps);
  }
}
