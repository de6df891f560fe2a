import { parseArgs } from 'node:util';
import { z } from 'zod';

const configSchema = z.object({
  port: z.coerce.number().int().min(0).max(65_535).default(8089),
  host: z.string().min(1).default('127.0.0.1'),
  dataset: z.string().min(1).optional(),
  rpm: z.coerce.number().int().positive().optional(),
  tpm: z.coerce.number().int().positive().optional(),
  windowMs: z.coerce.number().int().positive().default(60_000),
  tokenCost: z.enum(['reserved', 'actual']).default('reserved'),
  seed: z.string().default('evalfleet'),
  apiKey: z.string().min(1).optional(),
  retryAfterMs: z.coerce.number().int().nonnegative().default(1000),
  aliases: z.record(z.string(), z.string().startsWith('fake/')).default({}),
});

export type FakeProviderConfig = z.infer<typeof configSchema>;

export const usage = `usage: fake-provider [--port N] [--host H] [--dataset problems.jsonl] [--rpm N] [--tpm N]
                     [--window-ms N] [--token-cost reserved|actual] [--seed S] [--retry-after-ms N] [--alias model-id=fake/<behaviour>]...
env: FAKE_PROVIDER_PORT, _HOST, _DATASET, _RPM, _TPM, _WINDOW_MS, _TOKEN_COST, _SEED, _API_KEY (require this bearer token)`;

/** Configuration from argv (wins) and env; the only place the fake provider reads either. */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): FakeProviderConfig {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      dataset: { type: 'string' },
      rpm: { type: 'string' },
      tpm: { type: 'string' },
      'window-ms': { type: 'string' },
      'token-cost': { type: 'string' },
      seed: { type: 'string' },
      'retry-after-ms': { type: 'string' },
      alias: { type: 'string', multiple: true },
    },
    strict: true,
  });
  const aliases: Record<string, string> = {};
  for (const alias of values.alias ?? []) {
    const at = alias.indexOf('=');
    if (at <= 0) throw new Error(`--alias "${alias}" must look like model-id=fake/<behaviour>`);
    aliases[alias.slice(0, at)] = alias.slice(at + 1);
  }
  const nonEmpty = (value: string | undefined): string | undefined =>
    value === undefined || value === '' ? undefined : value;
  const result = configSchema.safeParse({
    port: values.port ?? nonEmpty(env.FAKE_PROVIDER_PORT),
    host: values.host ?? nonEmpty(env.FAKE_PROVIDER_HOST),
    dataset: values.dataset ?? nonEmpty(env.FAKE_PROVIDER_DATASET),
    rpm: values.rpm ?? nonEmpty(env.FAKE_PROVIDER_RPM),
    tpm: values.tpm ?? nonEmpty(env.FAKE_PROVIDER_TPM),
    windowMs: values['window-ms'] ?? nonEmpty(env.FAKE_PROVIDER_WINDOW_MS),
    tokenCost: values['token-cost'] ?? nonEmpty(env.FAKE_PROVIDER_TOKEN_COST),
    seed: values.seed ?? nonEmpty(env.FAKE_PROVIDER_SEED),
    apiKey: nonEmpty(env.FAKE_PROVIDER_API_KEY),
    retryAfterMs: values['retry-after-ms'],
    aliases,
  });
  if (!result.success) {
    throw new Error(
      `invalid fake provider config: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return result.data;
}
