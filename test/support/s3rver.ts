import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** The part of s3rver's (untyped, CommonJS) API that the tests use. */
interface S3rverServer {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  resetOnClose: boolean;
}) => S3rverServer;

/** Where a test finds S3, and how it lets go of it. */
export interface S3TestEndpoint {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
  /** `s3rver` when started here, `external` when `S3_ENDPOINT` pointed elsewhere (MinIO). */
  source: 's3rver' | 'external';
  stop(): Promise<void>;
}

/** s3rver accepts any signature made with these, its built-in account. */
export const s3rverCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

/** Starts s3rver in this process on 127.0.0.1 and a free port, storing objects in a fresh temp dir. */
export async function startS3rver(): Promise<S3TestEndpoint> {
  const require = createRequire(import.meta.url);
  const S3rver = require('s3rver') as S3rverConstructor;
  const directory = await mkdtemp(path.join(os.tmpdir(), 'evalfleet-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, resetOnClose: true });
  let address: AddressInfo;
  try {
    address = await server.run();
  } catch (err) {
    await rm(directory, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    region: 'us-east-1',
    ...s3rverCredentials,
    forcePathStyle: true,
    source: 's3rver',
    async stop() {
      try {
        await server.close();
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Uses the S3 that `S3_ENDPOINT` names (MinIO in compose; credentials from `S3_ACCESS_KEY_ID` /
 * `S3_SECRET_ACCESS_KEY`, MinIO's defaults otherwise), or starts a private s3rver when it is unset.
 */
export async function s3ForTests(env: NodeJS.ProcessEnv = process.env): Promise<S3TestEndpoint> {
  const endpoint = env.S3_ENDPOINT?.trim();
  if (endpoint === undefined || endpoint === '') return startS3rver();
  return {
    endpoint,
    region: env.S3_REGION?.trim() || 'us-east-1',
    accessKeyId: env.S3_ACCESS_KEY_ID?.trim() || 'minioadmin',
    secretAccessKey: env.S3_SECRET_ACCESS_KEY?.trim() || 'minioadmin',
    forcePathStyle: true,
    source: 'external',
    stop: () => Promise.resolve(),
  };
}

/** A bucket name no other test uses: lowercase, 3-63 characters, starting with `label`. */
export function uniqueBucketName(label: string): string {
  const clean =
    label
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'test';
  return `${clean}-${randomBytes(6).toString('hex')}`;
}
