import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FsArtifactStore,
  S3ArtifactStore,
  artifactStoreConfigFromEnv,
  artifactStoreConfigSchema,
  createArtifactStore,
} from './index.js';

describe('artifactStoreConfigFromEnv', () => {
  const cwd = '/srv/evalfleet';

  it('defaults to a directory store under the given cwd', () => {
    expect(artifactStoreConfigFromEnv({}, cwd)).toEqual({ kind: 'fs', root: '/srv/evalfleet/.evalfleet/artifacts' });
    expect(artifactStoreConfigFromEnv({ ARTIFACT_DIR: 'out', S3_BUCKET: '' }, cwd)).toEqual({
      kind: 'fs',
      root: path.join(cwd, 'out'),
    });
    expect(artifactStoreConfigFromEnv({ ARTIFACT_DIR: '/data/a' }, cwd)).toEqual({ kind: 'fs', root: '/data/a' });
  });

  it('uses S3 when S3_BUCKET is set, path-style by default when an endpoint is given', () => {
    const config = artifactStoreConfigFromEnv(
      {
        S3_BUCKET: 'evalfleet',
        S3_ENDPOINT: 'http://minio:9000',
        S3_ACCESS_KEY_ID: 'key',
        S3_SECRET_ACCESS_KEY: 'secret',
        ARTIFACT_DIR: '/ignored',
      },
      cwd,
    );
    expect(config).toEqual({
      kind: 's3',
      endpoint: 'http://minio:9000',
      region: 'us-east-1',
      bucket: 'evalfleet',
      accessKeyId: 'key',
      secretAccessKey: 'secret',
      forcePathStyle: true,
    });
    expect(artifactStoreConfigFromEnv({ S3_BUCKET: 'evalfleet', S3_REGION: 'eu-west-1' })).toEqual({
      kind: 's3',
      region: 'eu-west-1',
      bucket: 'evalfleet',
      forcePathStyle: false,
    });
    expect(
      artifactStoreConfigFromEnv({
        S3_BUCKET: 'evalfleet',
        S3_ENDPOINT: 'http://minio:9000',
        S3_FORCE_PATH_STYLE: 'false',
      }),
    ).toMatchObject({ forcePathStyle: false });
  });

  it('rejects invalid settings with config_invalid', () => {
    expect(() => artifactStoreConfigFromEnv({ S3_BUCKET: 'b1b', S3_FORCE_PATH_STYLE: 'maybe' })).toThrow(
      expect.objectContaining({ code: 'config_invalid', retryable: false }),
    );
    expect(() => artifactStoreConfigFromEnv({ S3_BUCKET: 'Not_A_Bucket' })).toThrow(
      expect.objectContaining({ code: 'config_invalid' }),
    );
    expect(() => artifactStoreConfigFromEnv({ S3_BUCKET: 'bucket', S3_ACCESS_KEY_ID: 'only-one' })).toThrow(
      expect.objectContaining({ code: 'config_invalid' }),
    );
    expect(() => artifactStoreConfigFromEnv({ S3_BUCKET: 'bucket', S3_ENDPOINT: 'not a url' })).toThrow(
      expect.objectContaining({ code: 'config_invalid' }),
    );
  });

  it('exports a schema that a service config can embed', () => {
    expect(artifactStoreConfigSchema.safeParse({ kind: 'fs', root: '/x' }).success).toBe(true);
    expect(artifactStoreConfigSchema.safeParse({ kind: 'gcs', root: '/x' }).success).toBe(false);
  });
});

describe('createArtifactStore', () => {
  it('builds the store the config names', async () => {
    const fs = createArtifactStore({ kind: 'fs', root: '/tmp/evalfleet-factory' });
    expect(fs).toBeInstanceOf(FsArtifactStore);
    expect(fs.describe()).toBe('file:///tmp/evalfleet-factory');
    const s3 = createArtifactStore({ kind: 's3', bucket: 'artifacts', endpoint: 'http://127.0.0.1:9000' });
    expect(s3).toBeInstanceOf(S3ArtifactStore);
    expect(s3.describe()).toBe('s3://artifacts');
    await s3.close();
  });
});
