import path from 'node:path';
import * as z from 'zod';
import { ErrorCodes, PermanentError } from '../errors/index.js';

const bucketName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'bucket names are 3-63 lowercase letters, digits, dots and hyphens');

export const fsStoreConfigSchema = z.object({
  kind: z.literal('fs'),
  root: z.string().min(1),
});

export const s3StoreConfigSchema = z
  .object({
    kind: z.literal('s3'),
    endpoint: z.url().optional(),
    region: z.string().min(1).default('us-east-1'),
    bucket: bucketName,
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    forcePathStyle: z.boolean().default(false),
  })
  .refine((c) => (c.accessKeyId === undefined) === (c.secretAccessKey === undefined), {
    message: 'accessKeyId and secretAccessKey must be set together',
    path: ['secretAccessKey'],
  });

export const artifactStoreConfigSchema = z.discriminatedUnion('kind', [fsStoreConfigSchema, s3StoreConfigSchema]);

export type ArtifactStoreConfig = z.output<typeof artifactStoreConfigSchema>;
export type ArtifactStoreConfigInput = z.input<typeof artifactStoreConfigSchema>;

export const defaultArtifactDir = '.evalfleet/artifacts';

function parseFlag(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new PermanentError(ErrorCodes.configInvalid, `${name} must be true or false, got ${JSON.stringify(value)}`);
}

export function parseArtifactStoreConfig(input: unknown): ArtifactStoreConfig {
  const result = artifactStoreConfigSchema.safeParse(input);
  if (result.success) return result.data;
  throw new PermanentError(
    ErrorCodes.configInvalid,
    `invalid artifact store config: ${z.prettifyError(result.error)}`,
    {
      cause: result.error,
    },
  );
}

/**
 * Maps `S3_*` and `ARTIFACT_DIR` variables to a store config: S3 when `S3_BUCKET` is set,
 * otherwise a directory (`ARTIFACT_DIR`, default `.evalfleet/artifacts`) resolved against `cwd`.
 * Path-style addressing defaults to on when `S3_ENDPOINT` is set, since MinIO needs it.
 */
export function artifactStoreConfigFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  cwd: string = process.cwd(),
): ArtifactStoreConfig {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const bucket = get('S3_BUCKET');
  if (bucket === undefined) {
    return parseArtifactStoreConfig({ kind: 'fs', root: path.resolve(cwd, get('ARTIFACT_DIR') ?? defaultArtifactDir) });
  }
  const endpoint = get('S3_ENDPOINT');
  const forcePathStyle = get('S3_FORCE_PATH_STYLE');
  return parseArtifactStoreConfig({
    kind: 's3',
    endpoint,
    region: get('S3_REGION'),
    bucket,
    accessKeyId: get('S3_ACCESS_KEY_ID'),
    secretAccessKey: get('S3_SECRET_ACCESS_KEY'),
    forcePathStyle:
      forcePathStyle === undefined ? endpoint !== undefined : parseFlag('S3_FORCE_PATH_STYLE', forcePathStyle),
  });
}
