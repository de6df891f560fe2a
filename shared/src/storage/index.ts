export type { ArtifactStore, ObjectHead, ObjectRef, PutOptions, PutStreamOptions } from './artifact-store.js';
export {
  artifactStoreConfigFromEnv,
  artifactStoreConfigSchema,
  defaultArtifactDir,
  fsStoreConfigSchema,
  parseArtifactStoreConfig,
  s3StoreConfigSchema,
  type ArtifactStoreConfig,
  type ArtifactStoreConfigInput,
} from './config.js';
export { sha256Hex } from './digest.js';
export { createArtifactStore, type S3Tuning } from './factory.js';
export { FsArtifactStore, type FsArtifactStoreOptions } from './fs-artifact-store.js';
export { contentKey, getJson, getOptionalJson, putJson, putJsonl, readJsonl } from './json.js';
export { assertValidKey, assertValidPrefix } from './keys.js';
export { S3ArtifactStore, type S3ArtifactStoreOptions } from './s3-artifact-store.js';
export { StorageErrorCodes } from './storage-errors.js';
