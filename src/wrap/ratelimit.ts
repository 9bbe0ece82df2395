import type { CallContext } from '../core/context.ts';
import type { TierRateLimitOptions, TierRateLimitPolicy } from '../ratelimit/index.ts';
import { tierRateLimitPolicy } from '../ratelimit/index.ts';
import type { AiRequest, CallOptions, WrapOptions } from './wrap.ts';
import { wrapCall } from './wrap.ts';

/** Options of `withRateLimit()`: tier limits (or a shared `policy`) plus the wrapper's own options. */
export type WithRateLimitOptions<Req extends AiRequest = AiRequest> = (
  | TierRateLimitOptions
  | { policy: TierRateLimitPolicy }
) &
  WrapOptions<Req>;

/**
 * Wrap an SDK call in per-caller tier limits (see `tierRateLimitPolicy`). Over a limit the call
 * rejects at once with `RateLimitedError` (`retryAfter`, and `headers` with RateLimit fields);
 * tenant and tier come from the wrapper options or the per-call options.
 *
 * @example
 * const create = withRateLimit((req) => openai.chat.completions.create(req), {
 *   tiers: { free: { requestsPerMinute: 20, tokensPerMinute: 40_000 } },
 *   tenant: 'team-a',
 *   tier: 'free',
 * });
 */
export function withRateLimit<Req extends AiRequest, Res>(
  fn: (request: Req, options: { signal: AbortSignal; ctx: CallContext }) => Promise<Res>,
  options: WithRateLimitOptions<Req>,
): ((request: Req, callOptions?: CallOptions) => Promise<Res>) & Pick<TierRateLimitPolicy, 'state'> {
  const policy =
    'policy' in options && options.policy
      ? options.policy
      : tierRateLimitPolicy(options as TierRateLimitOptions);
  const wrapped = wrapCall(fn, [policy], options);
  return Object.assign(wrapped, { state: () => policy.state() });
}
