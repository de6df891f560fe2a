import { getModel, getProvider, type Registry } from '../llm/registry.js';

/** One rate-limit scope: the quota a set of calls shares, with the limits that apply to it. */
export interface RateLimitScope {
  /** `provider:<name>` or `model:<name>`, from the model's `limit_scope`. Also the metrics label. */
  key: string;
  /** Provider the calls go to (429 metrics are counted per provider). */
  provider: string;
  /** Requests per period (per minute unless the limiter's `periodMs` says otherwise); undefined: no limit. */
  rpm: number | undefined;
  /** Tokens per period; undefined: no limit. */
  tpm: number | undefined;
}

/**
 * The scope a call to `model` counts against: the provider's shared quota when the model's
 * `limit_scope` is `provider` (limits from the provider), else the model's own (limits from the model).
 */
export function scopeForModel(registry: Registry, model: string): RateLimitScope {
  const config = getModel(registry, model);
  if (config.limitScope === 'provider') {
    const provider = getProvider(registry, config.provider);
    return { key: `provider:${provider.name}`, provider: provider.name, rpm: provider.rpm, tpm: provider.tpm };
  }
  return { key: `model:${config.name}`, provider: config.provider, rpm: config.rpm, tpm: config.tpm };
}

/** True when the scope has neither a request nor a token limit. */
export function isUnlimited(scope: RateLimitScope): boolean {
  return scope.rpm === undefined && scope.tpm === undefined;
}

/**
 * Redis keys of a scope: state hash, reservation log, reservation tokens, live instances. The
 * `{…}` hash tag keeps them in one Redis Cluster slot, as one script must touch them all.
 */
export function scopeRedisKeys(scopeKey: string): [string, string, string, string] {
  const base = `ratelimit:{${scopeKey}}`;
  return [`${base}:state`, `${base}:log`, `${base}:tokens`, `${base}:live`];
}
