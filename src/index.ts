export * from './breaker/index.ts';
export * from './cache/index.ts';
export * from './core/index.ts';
export * from './ratelimit/index.ts';
export * from './redis/index.ts';
export { type WithCacheOptions, withCache } from './wrap/cache.ts';
export * from './wrap/index.ts';
export { type WithRateLimitOptions, withRateLimit } from './wrap/ratelimit.ts';
