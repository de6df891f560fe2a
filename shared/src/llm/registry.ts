import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ErrorCodes, PermanentError } from '../errors/index.js';

/** Whether rate limits are shared by every model of a provider or kept per model. */
export type LimitScope = 'provider' | 'model';

/** BPE encodings we can count tokens with; other models fall back to a characters / 4 estimate. */
export const tokenEncodings = ['o200k_base', 'cl100k_base'] as const;
export type TokenEncoding = (typeof tokenEncodings)[number];

export interface ProviderConfig {
  name: string;
  /** OpenAI-compatible base URL, ending before `/chat/completions` (usually in `/v1`). */
  baseUrl: string;
  /** Name of the environment variable that holds the API key; null when the provider needs none. */
  apiKeyEnv: string | null;
  /** Extra headers sent on every request (e.g. OpenRouter's `HTTP-Referer`, `X-Title`). */
  headers: Record<string, string>;
  /** Provider-wide limits, used when a model's `limitScope` is `provider`. */
  rpm: number | undefined;
  tpm: number | undefined;
}

export interface ModelConfig {
  /** Registry name: what runs, reports and rate-limit scopes call the model. */
  name: string;
  provider: string;
  /** Model id sent to the provider. */
  model: string;
  rpm: number | undefined;
  tpm: number | undefined;
  inputPerMtok: number;
  outputPerMtok: number;
  maxOutputTokens: number;
  limitScope: LimitScope;
  /** Set in models.yaml when the provider's model id does not say it (e.g. an alias behind a proxy). */
  encoding: TokenEncoding | undefined;
}

export interface Registry {
  providers: Readonly<Record<string, ProviderConfig>>;
  models: Readonly<Record<string, ModelConfig>>;
}

const nameSchema = z.string().regex(/^[A-Za-z0-9._:@/+-]{1,120}$/, 'names use letters, digits and . _ : @ / + - only');
const positiveInt = z.number().int().positive();
const price = z.number().nonnegative();

const providerSchema = z.strictObject({
  base_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  api_key_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .nullable()
    .default(null),
  headers: z.record(z.string(), z.string()).default({}),
  rpm: positiveInt.optional(),
  tpm: positiveInt.optional(),
});

const modelSchema = z.strictObject({
  provider: nameSchema,
  model: z.string().min(1),
  rpm: positiveInt.optional(),
  tpm: positiveInt.optional(),
  input_per_mtok: price.default(0),
  output_per_mtok: price.default(0),
  max_output_tokens: positiveInt.default(1024),
  limit_scope: z.enum(['provider', 'model']).default('model'),
  encoding: z.enum(tokenEncodings).optional(),
});

const registrySchema = z.strictObject({
  providers: z.record(nameSchema, providerSchema),
  models: z.record(nameSchema, modelSchema),
});

function registryError(problems: string[]): PermanentError {
  return new PermanentError(ErrorCodes.configInvalid, `invalid model registry:\n  ${problems.join('\n  ')}`, {
    details: { problems },
  });
}

/** Say where an issue is in words a person editing models.yaml recognises. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const [section, name, ...rest] = issue.path.map(String);
  const field = rest.length > 0 ? `${rest.join('.')}: ` : '';
  if (section === 'models' && name !== undefined) return `model "${name}": ${field}${issue.message}`;
  if (section === 'providers' && name !== undefined) return `provider "${name}": ${field}${issue.message}`;
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return `${where}${issue.message}`;
}

/** Validate an already parsed registry document (e.g. from JSON or a test). */
export function parseRegistry(doc: unknown): Registry {
  const result = registrySchema.safeParse(doc);
  if (!result.success) throw registryError(result.error.issues.map(describeIssue));

  const providers: Record<string, ProviderConfig> = {};
  for (const [name, p] of Object.entries(result.data.providers)) {
    providers[name] = {
      name,
      baseUrl: p.base_url.replace(/\/+$/, ''),
      apiKeyEnv: p.api_key_env,
      headers: p.headers,
      rpm: p.rpm,
      tpm: p.tpm,
    };
  }

  const problems: string[] = [];
  const models: Record<string, ModelConfig> = {};
  for (const [name, m] of Object.entries(result.data.models)) {
    if (providers[m.provider] === undefined) {
      problems.push(`model "${name}": provider "${m.provider}" is not defined under providers`);
      continue;
    }
    models[name] = {
      name,
      provider: m.provider,
      model: m.model,
      rpm: m.rpm,
      tpm: m.tpm,
      inputPerMtok: m.input_per_mtok,
      outputPerMtok: m.output_per_mtok,
      maxOutputTokens: m.max_output_tokens,
      limitScope: m.limit_scope,
      encoding: m.encoding,
    };
  }
  if (problems.length > 0) throw registryError(problems);
  return { providers, models };
}

/** Parse and validate a registry written in YAML (the format of `models.yaml`). */
export function loadRegistry(text: string): Registry {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new PermanentError(ErrorCodes.configInvalid, `model registry is not valid YAML: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseRegistry(doc);
}

/** The model called `name`, or a PermanentError that lists the names that exist. */
export function getModel(registry: Registry, name: string): ModelConfig {
  const model = registry.models[name];
  if (model === undefined) {
    const known = Object.keys(registry.models).sort().join(', ');
    throw new PermanentError('unknown_model', `model "${name}" is not in the registry (known: ${known})`, {
      details: { model: name },
    });
  }
  return model;
}

/** The provider called `name`, or a PermanentError. */
export function getProvider(registry: Registry, name: string): ProviderConfig {
  const provider = registry.providers[name];
  if (provider === undefined) {
    throw new PermanentError('unknown_provider', `provider "${name}" is not in the registry`, {
      details: { provider: name },
    });
  }
  return provider;
}

/** A copy of the registry in which `provider` talks to `url` (e.g. a fake provider on a free port). */
export function withProviderBaseUrl(registry: Registry, provider: string, url: string): Registry {
  const current = getProvider(registry, provider);
  const parsed = providerSchema.shape.base_url.safeParse(url);
  if (!parsed.success) {
    throw new PermanentError(
      ErrorCodes.configInvalid,
      `provider "${provider}": base URL "${url}" must be an http(s) URL`,
    );
  }
  return {
    models: registry.models,
    providers: { ...registry.providers, [provider]: { ...current, baseUrl: parsed.data.replace(/\/+$/, '') } },
  };
}

export interface KeyStatus {
  name: string;
  provider: string;
  /** True when the key's variable is set and non-empty, or the provider needs no key. */
  hasKey: boolean;
  keyEnv: string | null;
}

/** Which models can be called with the given environment, sorted by model name. */
export function keyStatus(registry: Registry, env: Readonly<Record<string, string | undefined>>): KeyStatus[] {
  return Object.values(registry.models)
    .map((model) => {
      const keyEnv = getProvider(registry, model.provider).apiKeyEnv;
      const value = keyEnv === null ? undefined : env[keyEnv];
      return {
        name: model.name,
        provider: model.provider,
        hasKey: keyEnv === null || (value !== undefined && value.trim() !== ''),
        keyEnv,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** Price of one call in US dollars, from the model's per-million-token prices. */
export function costUsd(
  model: Pick<ModelConfig, 'inputPerMtok' | 'outputPerMtok'>,
  usage: Pick<TokenUsage, 'promptTokens' | 'completionTokens'>,
): number {
  const micro = usage.promptTokens * model.inputPerMtok + usage.completionTokens * model.outputPerMtok;
  // Round away binary noise (0.1 + 0.2) so sums in reports compare exactly.
  return Math.round(micro * 1e3) / 1e9;
}
