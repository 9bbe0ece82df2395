export { type AiBreakerOptions, aiBreaker } from './breaker.ts';
export { aiCache } from './cache.ts';
export type { AiContextOptions, AlchemistEnv, AlchemistVariables } from './context.ts';
export { aiContext, callContextOf } from './context.ts';
export { aiHandler } from './handler.ts';
export type { OnRejected, PolicyMiddlewareOptions } from './policy.ts';
export { policyMiddleware } from './policy.ts';
export { type AiRateLimitMiddleware, type AiRateLimitOptions, aiRateLimit } from './ratelimit.ts';
export { responseFromResult, resultFromResponse, setResult } from './result.ts';
