import type { Policy } from '../core/compose.ts';
import type { AiResult } from '../core/result.ts';
import type { AiRequest, CallOptions, UpstreamCallOptions, WrapOptions } from './wrap.ts';
import { wrapCall } from './wrap.ts';

/** One policy, or several applied in the order given (outermost first). */
export type PolicyOrList = Policy<AiResult> | readonly Policy<AiResult>[];

/** Options of {@link withAll}: the policies by role, plus every {@link WrapOptions} field. */
export interface WithAllOptions<Req extends AiRequest = AiRequest> extends WrapOptions<Req> {
  /**
   * Rate limits (e.g. `tierRateLimitPolicy()`, `modelRateLimitPolicy()`), run first so a rejected call
   * costs nothing. @default none
   */
  rateLimit?: PolicyOrList;
  /** The response cache (e.g. `aiCachePolicy()`), inside the limits. @default none */
  cache?: PolicyOrList;
  /**
   * Breaker, retries, timeouts and fallbacks (e.g. `createResilience()`), innermost: only calls the cache
   * could not answer reach it, and each retry is a separate upstream attempt. @default none
   */
  breaker?: PolicyOrList;
  /** More policies, run innermost (right around the call). @default none */
  policies?: readonly Policy<AiResult>[];
}

function list(value: PolicyOrList | undefined): readonly Policy<AiResult>[] {
  if (value === undefined) return [];
  const policies = Array.isArray(value)
    ? (value as readonly Policy<AiResult>[])
    : [value as Policy<AiResult>];
  for (const policy of policies) {
    if (typeof policy !== 'object' || policy === null || typeof policy.execute !== 'function') {
      throw new TypeError(`withAll: expected a policy with execute(ctx, next), got ${String(policy)}`);
    }
  }
  return policies;
}

/**
 * The policies of `options` in the order they must run: rate limits, then the cache, then resilience
 * (a cache hit never touches the breaker; a rejected call never touches the cache), then `policies`.
 */
export function orderPolicies(options: WithAllOptions<AiRequest>): readonly Policy<AiResult>[] {
  return [
    ...list(options.rateLimit),
    ...list(options.cache),
    ...list(options.breaker),
    ...list(options.policies ?? []),
  ];
}

/**
 * Wrap any async AI call in rate limits, the cache and the breaker, in the right order, with a request
 * span, a GenAI CLIENT span per upstream attempt and the `alchemist.*` metrics. The wrapped function
 * keeps its signature: JSON answers come back as they were, async iterables (streams) stay streams.
 *
 * @param fn the call; it receives the request (its `model` is the fallback model when one answers)
 *   and `{ signal, ctx, callOptions }`: pass `signal` to your SDK so aborts and timeouts reach it.
 * @param [options.rateLimit] limits, outermost
 * @param [options.cache] the cache, inside the limits
 * @param [options.breaker] breaker/retry/timeout, innermost
 * @param [options.provider='openai'] gen_ai.provider.name of the call
 * @param [options.tenant='default'] cache and limit scope
 * @example
 * const ask = withAll((req, { signal }) => openai.chat.completions.create(req, { signal }), {
 *   rateLimit: tierRateLimitPolicy({ tiers: { free: { requestsPerMinute: 60 } } }),
 *   cache: aiCachePolicy(),
 *   breaker: createResilience(),
 * });
 * const answer = await ask({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
 */
export function withAll<Req extends AiRequest, Res, Opts extends CallOptions = CallOptions>(
  fn: (request: Req, options: UpstreamCallOptions<Opts>) => Promise<Res>,
  options: WithAllOptions<Req> = {},
): (request: Req, callOptions?: Opts) => Promise<Res> {
  const { rateLimit, cache, breaker, policies, ...wrapOptions } = options;
  const ordered = orderPolicies({
    ...(rateLimit ? { rateLimit } : {}),
    ...(cache ? { cache } : {}),
    ...(breaker ? { breaker } : {}),
    ...(policies ? { policies } : {}),
  });
  return wrapCall(fn, ordered, { route: fn.name || 'withAll', ...wrapOptions });
}
