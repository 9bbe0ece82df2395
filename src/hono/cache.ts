import type { MiddlewareHandler } from 'hono';
import type { AiCacheOptions } from '../cache/options.ts';
import type { CachePolicy } from '../cache/policy.ts';
import { aiCachePolicy } from '../cache/policy.ts';
import type { CallContext } from '../core/context.ts';
import { serverTimingHeader } from '../core/decisions.ts';
import { policyMiddleware } from './policy.ts';

/** `Cache-Status` and `Server-Timing` as the cache decided them (the pipeline adds them to every answer). */
export function cacheHeaders(ctx: CallContext): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  if (ctx.decisions.cacheStatus) headers['cache-status'] = ctx.decisions.cacheStatus;
  const timing = serverTimingHeader(ctx.decisions);
  if (timing) headers['server-timing'] = timing;
  return headers;
}

/**
 * AI response cache middleware: answers repeated calls from memory (or Redis), coalesces identical
 * in-flight calls, records and replays SSE streams, and sets `Cache-Status` (RFC 9211) and
 * `Server-Timing`. Pass options, or a policy from `aiCachePolicy()` to keep `clear()`/`stats()`.
 *
 * @param [options.ttl=3600] freshness in seconds
 * @param [options.redis] a shared `createRedisConnection()` or a URL
 * @example
 * app.use('/v1/*', aiContext());
 * app.use('/v1/*', aiCache({ ttl: 600, redis: createRedisConnection({ url: process.env.REDIS_URL! }) }));
 */
export function aiCache(options: AiCacheOptions | CachePolicy = {}): MiddlewareHandler {
  const policy = 'execute' in options ? options : aiCachePolicy(options);
  return policyMiddleware('aiCache', policy);
}
