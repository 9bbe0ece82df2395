import type { MiddlewareHandler } from 'hono';
import type { CallContext } from '../core/context.ts';
import { HEADER_POLICY, HEADER_STATE } from '../ratelimit/headers.ts';
import type { TierRateLimitOptions, TierRateLimitPolicy } from '../ratelimit/index.ts';
import { tierRateLimitPolicy } from '../ratelimit/index.ts';
import type { OnRejected } from './policy.ts';
import { policyMiddleware } from './policy.ts';

/** Options of `aiRateLimit()`: the tier limits, or an existing policy to share, plus the rejection hook. */
export type AiRateLimitOptions = (TierRateLimitOptions | { policy: TierRateLimitPolicy }) & {
  /** Replace the 429 response (it still gets `Retry-After` only if you set it). @default OpenAI-style JSON */
  onRejected?: OnRejected;
};

/** A middleware with the limiter's state, for `/readyz`. */
export type AiRateLimitMiddleware = MiddlewareHandler & Pick<TierRateLimitPolicy, 'state'>;

/** The `RateLimit-Policy` / `RateLimit` headers the tier limiter decided for this call. */
export function rateLimitHeaders(ctx: CallContext): Record<string, string> {
  const headers: Record<string, string> = {};
  const policyHeader = ctx.decisions.headers[HEADER_POLICY];
  const stateHeader = ctx.decisions.headers[HEADER_STATE];
  if (policyHeader !== undefined) headers[HEADER_POLICY] = policyHeader;
  if (stateHeader !== undefined) headers[HEADER_STATE] = stateHeader;
  return headers;
}

/**
 * Per-caller tier limits as Hono middleware (see `tierRateLimitPolicy`). Over a limit the request
 * ends at once with 429, `Retry-After` and the `RateLimit-Policy` / `RateLimit` headers; successful
 * responses carry the two RateLimit headers too. Put it after `aiContext()` and before the cache.
 *
 * @param options tier limits (`tiers`, `defaultTier`, `multiplier`, `redis`, `instances`...) or `{ policy }`
 * @example
 * const limits = aiRateLimit({ tiers: { free: { requestsPerMinute: 20, tokensPerMinute: 40_000 } }, defaultTier: 'free' });
 * app.use('/v1/*', aiContext(), limits);
 * app.get('/readyz', (c) => c.json({ limiter: limits.state() }));
 */
export function aiRateLimit(options: AiRateLimitOptions): AiRateLimitMiddleware {
  const policy = 'policy' in options ? options.policy : tierRateLimitPolicy(options);
  const middleware = policyMiddleware(
    'aiRateLimit',
    policy,
    options.onRejected ? { onRejected: options.onRejected } : {},
  );
  return Object.assign(middleware, { state: () => policy.state() });
}
