import type { MiddlewareHandler } from 'hono';
import type { AiCacheOptions } from '../cache/options.ts';
import type { CachePolicy } from '../cache/policy.ts';
import { aiCachePolicy } from '../cache/policy.ts';
import type { CallContext } from '../core/context.ts';
import { policyMiddleware } from './policy.ts';

/** `Server-Timing` (W3C Server Timing) from every policy's entries so far. */
function serverTiming(ctx: CallContext): string | undefined {
  if (ctx.decisions.serverTiming.length === 0) return undefined;
  return ctx.decisions.serverTiming
    .map((entry) => {
      const description = entry.description ? `;desc="${entry.description.replace(/["\\]/g, '')}"` : '';
      return `${entry.name};dur=${entry.durationMs.toFixed(2)}${description}`;
    })
    .join(', ');
}

export function cacheHeaders(ctx: CallContext): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  // Cache-Status (RFC 9211) says what the cache did: hit, or why it forwarded.
  if (ctx.decisions.cacheStatus) headers['cache-status'] = ctx.decisions.cacheStatus;
  const timing = serverTiming(ctx);
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
  return policyMiddleware('aiCache', policy, { headers: cacheHeaders });
}
