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
