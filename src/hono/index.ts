export { type AiBreakerOptions, aiBreaker } from './breaker.ts';
export { type AiBudgetMiddleware, type AiBudgetOptions, aiBudget, budgetHeaders } from './budget.ts';
export { aiCache, cacheHeaders } from './cache.ts';
export type { AiContextOptions, AlchemistEnv, AlchemistVariables } from './context.ts';
export { aiContext } from './context.ts';
export { type AiErrorHandlerOptions, aiErrorHandler } from './error-handler.ts';
export { type AiHandlerOptions, aiHandler } from './handler.ts';
export type { OnRejected, PolicyMiddlewareOptions } from './policy.ts';
export { policyMiddleware } from './policy.ts';
export {
  type AiRateLimitMiddleware,
  type AiRateLimitOptions,
  aiRateLimit,
  rateLimitHeaders,
} from './ratelimit.ts';
