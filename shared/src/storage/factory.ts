import type { ArtifactStore } from './artifact-store.js';
import { parseArtifactStoreConfig, type ArtifactStoreConfigInput } from './config.js';
import { FsArtifactStore } from './fs-artifact-store.js';
import { S3ArtifactStore, type S3ArtifactStoreOptions } from './s3-artifact-store.js';

/** Tuning that is not configuration (tests shrink pages and parts with it). */
export type S3Tuning = Pick<S3ArtifactStoreOptions, 'partSizeBytes' | 'listPageSize' | 'maxAttempts'>;

/** Builds the store a validated config describes; call `ensureReady()` before the first write. */
export function createArtifactStore(config: ArtifactStoreConfigInput, tuning?: S3Tuning): ArtifactStore {
  const parsed = parseArtifactStoreConfig(config);
  switch (parsed.kind) {
    case 'fs':
      return new FsArtifactStore({ root: parsed.root });
    case 's3':
      return new S3ArtifactStore({ ...parsed, ...tuning });
  }
}
