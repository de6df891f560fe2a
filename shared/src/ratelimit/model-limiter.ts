import type { Registry } from '../llm/registry.js';
import type { FleetLimiter, Reservation } from './fleet-limiter.js';
import { scopeForModel, type RateLimitScope } from './scope.js';

/** The limiter addressed by registry model names, as the generator calls it. */
export interface ModelLimiter {
  /** Reserves one request + `tokens` in the model's scope; throws RetryableError past `maxWaitMs`. */
  acquire(model: string, tokens: number, signal?: AbortSignal): Promise<Reservation>;
  /** Feeds the answer's status and rate-limit headers back; pass the call's latency when known. */
  observe(model: string, status: number | null, headers: Record<string, string>, latencyMs?: number): Promise<void>;
}

/** Binds a FleetLimiter to a registry: each model's calls go to its `provider:` or `model:` scope. */
export function limiterForModels(
  limiter: FleetLimiter,
  registry: Registry,
  options: { maxWaitMs?: number } = {},
): ModelLimiter {
  const scopes = new Map<string, RateLimitScope>();
  const scopeOf = (model: string): RateLimitScope => {
    let scope = scopes.get(model);
    if (scope === undefined) {
      scope = scopeForModel(registry, model);
      scopes.set(model, scope);
    }
    return scope;
  };
  return {
    acquire: (model, tokens, signal) =>
      limiter.acquire(scopeOf(model), {
        tokens,
        ...(options.maxWaitMs === undefined ? {} : { maxWaitMs: options.maxWaitMs }),
        ...(signal === undefined ? {} : { signal }),
      }),
    observe: (model, status, headers, latencyMs) =>
      limiter.observe(scopeOf(model), { status, headers, ...(latencyMs === undefined ? {} : { latencyMs }) }),
  };
}
