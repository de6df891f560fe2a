// In-process services and clean-up for cross-service tests: each test gets its own broker
// namespace, Redis key prefix and artifact directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { delayTiersMs } from '../../shared/src/messages/index.js';
import { createArtifactStore, type ArtifactStore } from '../../shared/src/storage/index.js';
import { deleteNamespace, rabbitUrl, uniqueNamespace } from './rabbit.js';

export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export type TestFleetEnv = {
  ns: string;
  artifactDir: string;
  env: Record<string, string>;
  store: ArtifactStore;
  cleanup(): Promise<void>;
};

/** A fresh namespace and artifact directory, with the env a service or the CLI reads. */
export async function testFleetEnv(label: string, extra: Record<string, string> = {}): Promise<TestFleetEnv> {
  const ns = uniqueNamespace(label);
  const artifactDir = await mkdtemp(path.join(tmpdir(), `evalfleet-${label}-`));
  const env: Record<string, string> = {
    RABBITMQ_URL: rabbitUrl,
    REDIS_URL: redisUrl,
    EVALFLEET_NAMESPACE: ns,
    ARTIFACT_DIR: artifactDir,
    METRICS_PORT: '0',
    METRICS_HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SHUTDOWN_TIMEOUT_MS: '20000',
    ...extra,
  };
  const store = createArtifactStore({ kind: 'fs', root: artifactDir });
  return {
    ns,
    artifactDir,
    env,
    store,
    async cleanup() {
      await deleteNamespace(ns, delayTiersMs);
      await deleteRedisPrefix(`${ns}:`);
      await rm(artifactDir, { recursive: true, force: true });
    },
  };
}

/** Remove every Redis key under a test's prefix. */
export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export type ServiceName = 'producer' | 'generator' | 'evaluator' | 'mutator' | 'aggregator';

type Starter = (opts: { env: Record<string, string>; installSignals: boolean; cwd: string }) => Promise<{
  shutdown(): Promise<void>;
  opsUrl: string;
}>;

/** The services a test can start in-process; a service's module is loaded only when used. */
const starters: Record<ServiceName, () => Promise<Starter>> = {
  producer: async () => (await import('../../services/producer/src/main.js')).startProducer,
  generator: async () => (await import('../../services/generator/src/main.js')).startGenerator,
  evaluator: async () => (await import('../../services/evaluator/src/main.js')).startEvaluator,
  mutator: async () => (await import('../../services/mutator/src/main.js')).startMutator,
  aggregator: async () => (await import('../../services/aggregator/src/main.js')).startAggregator,
};

export type TestFleet = {
  fleetEnv: TestFleetEnv;
  env: Record<string, string>;
  /** Start one more instance of a service; returns its ops URL (/metrics, /healthz, /readyz). */
  startService(name: ServiceName): Promise<string>;
  stop(): Promise<void>;
};

/**
 * A kind-agnostic fleet for cross-service tests: its own namespace and store, the services asked
 * for running in-process on the real broker and Redis, and `kinds` (module paths) loaded beside
 * the built-in ones exactly as `EVALFLEET_KINDS` does for real services.
 */
export async function startFleet(
  label: string,
  opts: { services?: readonly ServiceName[]; env?: Record<string, string>; kinds?: readonly string[] } = {},
): Promise<TestFleet> {
  const fleetEnv = await testFleetEnv(label, {
    ...(opts.kinds?.length ? { EVALFLEET_KINDS: opts.kinds.map((k) => path.resolve(k)).join(',') } : {}),
    ...opts.env,
  });
  const stops: (() => Promise<void>)[] = [];
  const startService = async (name: ServiceName): Promise<string> => {
    const start = await starters[name]();
    const s = await start({ env: fleetEnv.env, installSignals: false, cwd: fleetEnv.artifactDir });
    stops.push(() => s.shutdown());
    return s.opsUrl;
  };
  try {
    for (const name of opts.services ?? ['producer', 'generator', 'evaluator', 'aggregator']) await startService(name);
  } catch (err) {
    for (const stop of stops.splice(0).reverse()) await stop();
    await fleetEnv.cleanup();
    throw err;
  }
  return {
    fleetEnv,
    env: fleetEnv.env,
    startService,
    async stop() {
      for (const stop of stops.splice(0).reverse()) await stop();
      await fleetEnv.cleanup();
    },
  };
}
