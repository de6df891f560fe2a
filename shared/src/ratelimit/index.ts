export {
  createFleetLimiter,
  RateLimitErrorCodes,
  type AcquireOptions,
  type FleetLimiter,
  type ObservedResponse,
  type Reservation,
  type ScopeStatus,
} from './fleet-limiter.js';
export type { AdaptiveOptions, FleetLimiterOptions } from './options.js';
export { isUnlimited, scopeForModel, scopeRedisKeys, type RateLimitScope } from './scope.js';
export { limiterForModels, type ModelLimiter } from './model-limiter.js';
export { readLimitSignals, type LimitSignals, type SignalOptions } from './signals.js';
export { createLimiterMetrics, type LimiterMetrics } from '../metrics/ratelimit.js';
export { meanWindowUsage, peakWindowUsage, type TimedCost, type WindowUsage } from './window-usage.js';
