export type { BucketSnapshot, BucketSpec } from './bucket.ts';
export type { LimiterMode, RateLimiterState } from './limiter.ts';
export type {
  ModelGateState,
  ModelLimits,
  ModelRateLimitOptions,
  ModelRateLimitPolicy,
} from './model-policy.ts';
export { modelRateLimitPolicy } from './model-policy.ts';
export type { TierLimits, TierRateLimitOptions } from './tier-options.ts';
export type { TierRateLimitPolicy } from './tier-policy.ts';
export { tierRateLimitPolicy } from './tier-policy.ts';
export type { TokenEstimate } from './tokens.ts';
export { estimateTokens, loadTokenizer, tokenizerLoaded } from './tokens.ts';
