// A Redis key prefix and a filesystem store of a test's own, and the clean-up of both.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { createArtifactStore, type ArtifactStore } from '../../shared/src/storage/index.js';
import { deleteRedisPrefix, redisUrl } from './fleet.js';

export type Scratch = { redis: Redis; store: ArtifactStore; cleanup(): Promise<void> };

export async function scratchRedisAndStore(label: string): Promise<Scratch> {
  const prefix = `${label}-test-${randomBytes(4).toString('hex')}:`;
  const redis = new Redis(redisUrl, { keyPrefix: prefix });
  const dir = await mkdtemp(path.join(tmpdir(), `evalfleet-${label}-`));
  return {
    redis,
    store: createArtifactStore({ kind: 'fs', root: dir }),
    async cleanup() {
      await deleteRedisPrefix(prefix);
      redis.disconnect();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
