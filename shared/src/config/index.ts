import { z } from 'zod';
import { PermanentError, ErrorCodes } from '../errors/index.js';

export type Env = Record<string, string | undefined>;

/** Boolean from env text: 1/true/yes/on and 0/false/no/off. */
export const envBoolean = z.union([z.boolean(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'boolean') return v;
  const s = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
  ctx.addIssue({ code: 'custom', message: `not a boolean: ${v}` });
  return z.NEVER;
});

/**
 * Fields every service shares: where the broker and Redis are. The artifact store is
 * configured from `S3_*` / `ARTIFACT_DIR` by `artifactStoreConfigFromEnv` (storage module).
 */
export const commonConfigShape = {
  RABBITMQ_URL: z.string().url().default('amqp://guest:guest@127.0.0.1:5672'),
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  EVALFLEET_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]*$/)
    .default('evalfleet'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  EVALFLEET_MODELS: z.string().optional(),
  /** `provider=url,…`: overrides registry base URLs (the demo's fake provider, a local proxy). */
  EVALFLEET_PROVIDER_URLS: z.string().optional(),
  /** Kinds defined outside the project: module specifiers (paths or packages), comma-separated. */
  EVALFLEET_KINDS: z.string().optional(),
};

export const commonConfigSchema = z.object(commonConfigShape);

/** Parse `env` with a service's schema, failing with every problem listed at once. */
export function loadConfig<S extends z.ZodType>(schema: S, env: Env = process.env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.map(String).join('.')}: ${i.message}`).join('\n');
    throw new PermanentError(ErrorCodes.configInvalid, `invalid configuration:\n${problems}`);
  }
  return parsed.data;
}

/** The port a service serves /metrics, /healthz and /readyz on (0 = any free port). */
export function metricsPortField(defaultPort: number) {
  return z.coerce.number().int().min(0).max(65535).default(defaultPort);
}
