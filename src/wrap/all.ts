import type { ResilienceOptions } from '../breaker/resilience.ts';
import { createResilience } from '../breaker/resilience.ts';
import type { BudgetOptions } from '../budget/options.ts';
import { budgetPolicy } from '../budget/policy.ts';
import type { AiCacheOptions } from '../cache/options.ts';
import { aiCachePolicy } from '../cache/policy.ts';
import type { Policy } from '../core/compose.ts';
import type { AiResult } from '../core/result.ts';
import type { ModelRateLimitOptions } from '../ratelimit/model-policy.ts';
import { modelRateLimitPolicy } from '../ratelimit/model-policy.ts';
import type { TierRateLimitOptions } from '../ratelimit/tier-options.ts';
import { tierRateLimitPolicy } from '../ratelimit/tier-policy.ts';
import type { AiRequest, CallOptions, UpstreamCallOptions, WrapOptions } from './wrap.ts';
import { wrapCall } from './wrap.ts';

/** One policy, or several applied in the order given (outermost first). */
export type PolicyOrList = Policy<AiResult> | readonly Policy<AiResult>[];

/**
 * Options of {@link withAll}: each role takes a policy you created (to share it, e.g. one cache for
 * several wrappers), or that policy's options (a policy is then made once, here). Plus every
 * {@link WrapOptions} field.
 */
export interface WithAllOptions<Req extends AiRequest = AiRequest> extends WrapOptions<Req> {
  /** Per-caller tier limits (`tierRateLimitPolicy()` or its options), first: a rejected call costs nothing. @default none */
  rateLimit?: PolicyOrList | TierRateLimitOptions;
  /** The response cache (`aiCachePolicy()` or its options), inside the tier limits. @default none */
  cache?: PolicyOrList | AiCacheOptions;
  /** Spend budgets (`budgetPolicy()` or its options), inside the cache: a hit answers even over budget. @default none */
  budget?: PolicyOrList | BudgetOptions;
  /**
   * Breakers, retries, timeouts and fallbacks (`createResilience()` or its options), inside the cache:
   * a hit never reaches it, and each retry is a separate upstream attempt. @default none
   */
  breaker?: PolicyOrList | ResilienceOptions;
  /** Per-model outbound limits (`modelRateLimitPolicy()` or its options), around every attempt. @default none */
  modelRateLimit?: PolicyOrList | ModelRateLimitOptions;
  /** More policies, innermost (right around the call). @default none */
  policies?: readonly Policy<AiResult>[];
}

function isPolicy(value: unknown): value is Policy<AiResult> {
  return (
    typeof value === 'object' && value !== null && typeof (value as Policy<AiResult>).execute === 'function'
  );
}

function resolve<O>(
  role: string,
  value: PolicyOrList | O | undefined,
  create: (options: O) => Policy<AiResult>,
): readonly Policy<AiResult>[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) {
    const bad = value.find((item) => !isPolicy(item));
    if (bad !== undefined) {
      throw new TypeError(
        `withAll: '${role}' must hold policies with execute(ctx, next), got ${String(bad)}`,
      );
    }
    return value as readonly Policy<AiResult>[];
  }
  if (isPolicy(value)) return [value];
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`withAll: '${role}' must be a policy or its options, got ${String(value)}`);
  }
  return [create(value as O)];
}

function thaw(value: unknown): unknown {
  // Cached answers are frozen (every hit shares them); callers get a copy they may change.
  return value !== null && typeof value === 'object' && Object.isFrozen(value)
    ? structuredClone(value)
    : value;
}

/** Callers of a wrapped function get mutable answers, whether or not they came from the cache. */
const thawing: Policy<AiResult> = {
  name: 'thaw',
  async execute(ctx, next) {
    const result = await next(ctx);
    if (result.kind === 'json') return { ...result, body: thaw(result.body) };
    const chunks = result.chunks;
    return {
      ...result,
      chunks: (async function* () {
        for await (const chunk of chunks) yield thaw(chunk);
      })(),
    };
  },
};

/**
 * The policies of `options`, created once, in the order they must run: tier limits, the cache, the
 * budget, the breaker, per-model limits, then `policies`.
 */
export function orderPolicies(options: WithAllOptions<AiRequest>): readonly Policy<AiResult>[] {
  const cache = resolve('cache', options.cache, aiCachePolicy);
  return [
    ...resolve('rateLimit', options.rateLimit, tierRateLimitPolicy),
    ...(cache.length > 0 ? [thawing] : []),
    ...cache,
    ...resolve('budget', options.budget, budgetPolicy),
    ...resolve('breaker', options.breaker, createResilience),
    ...resolve('modelRateLimit', options.modelRateLimit, modelRateLimitPolicy),
    ...resolve<never>('policies', options.policies, () => {
      throw new TypeError("withAll: 'policies' must be an array of policies");
    }),
  ];
}

/**
 * Wrap any async AI call in tier limits, the cache and the breaker, in the right order, with a request
 * span, a GenAI CLIENT span per upstream attempt and the `alchemist.*` metrics. The wrapped function
 * keeps its signature: JSON answers come back as they were, async iterables (streams) stay streams.
 *
 * @param fn the call; it receives the request (its `model` is the fallback model when one answers)
 *   and `{ signal, ctx, callOptions }`: pass `signal` to your SDK so aborts and timeouts reach it.
 * @param [options.rateLimit] tier limits (policy or options), outermost
 * @param [options.cache] the cache (policy or options)
 * @param [options.budget] spend budgets (policy or options), inside the cache
 * @param [options.breaker] breaker/retry/timeout (policy or options)
 * @param [options.modelRateLimit] per-model outbound limits (policy or options), per attempt
 * @param [options.provider='openai'] gen_ai.provider.name of the call
 * @param [options.tenant='default'] cache and limit scope
 * @example
 * const ask = withAll((req, { signal }) => openai.chat.completions.create(req, { signal }), {
 *   rateLimit: { tiers: { default: { requestsPerMinute: 60 } } },
 *   cache: { ttl: 600 },
 *   breaker: { maxRetries: 2, timeoutMs: 30_000 },
 * });
 * const answer = await ask({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
 */
export function withAll<Req extends AiRequest, Res, Opts extends CallOptions = CallOptions>(
  fn: (request: Req, options: UpstreamCallOptions<Opts>) => Promise<Res>,
  options: WithAllOptions<Req> = {},
): (request: Req, callOptions?: Opts) => Promise<Res> {
  const { rateLimit, cache, budget, breaker, modelRateLimit, policies, ...wrapOptions } = options;
  const ordered = orderPolicies({
    ...(rateLimit === undefined ? {} : { rateLimit }),
    ...(cache === undefined ? {} : { cache }),
    ...(budget === undefined ? {} : { budget }),
    ...(breaker === undefined ? {} : { breaker }),
    ...(modelRateLimit === undefined ? {} : { modelRateLimit }),
    ...(policies === undefined ? {} : { policies }),
  });
  return wrapCall(fn, ordered, wrapOptions);
}
