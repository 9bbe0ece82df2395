import { randomUUID } from 'node:crypto';
import type { Attributes } from '@opentelemetry/api';
import { systemClock } from '../core/clock.ts';
import type { Policy } from '../core/compose.ts';
import type { CallContext } from '../core/context.ts';
import { RateLimitedError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { getInstruments } from '../telemetry/instruments.ts';
import { modelLabel, tierLabel } from '../telemetry/labels.ts';
import {
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_RATELIMIT_RESULT,
  ATTR_RATELIMIT_SCOPE,
  ATTR_TIER,
} from '../telemetry/semconv.ts';
import { setSpanAttributes } from '../telemetry/spans.ts';
import {
  ATTR_TIER_IN_FLIGHT,
  ATTR_TIER_MODE,
  ATTR_TIER_NAME,
  ATTR_TIER_REQUESTS_REMAINING,
  ATTR_TIER_RESULT,
  ATTR_TIER_SCOPE,
  ATTR_TIER_TOKENS_REMAINING,
  ATTR_TIER_TOKENS_RESERVED,
  ATTR_TIER_TOKENS_SETTLED,
} from './attributes.ts';
import type { BucketRequest, SettleRequest } from './backend.ts';
import type { BucketSnapshot } from './bucket.ts';
import { formatState, HEADER_POLICY, HEADER_STATE } from './headers.ts';
import type { RateLimiterState } from './limiter.ts';
import { SharedLimiter } from './limiter.ts';
import { runAndSettle, servedFromCache } from './settle.ts';
import type { TierRateLimitOptions, TierSpecs } from './tier-options.ts';
import { resolveDefaultTier, resolveTiers } from './tier-options.ts';
import type { TokenEstimate } from './tokens.ts';
import { actualTokens, estimateTokens, loadTokenizer, tokenizerLoaded } from './tokens.ts';
import { nonNegativeNumber, positiveInteger, resolveInstances, resolveMultiplier } from './validate.ts';

/** The inbound per-caller limiter: a policy plus its state for `/readyz`. */
export interface TierRateLimitPolicy extends Policy<AiResult> {
  /** `{ mode: 'local' | 'redis' | 'local-fallback', degraded }`. */
  state(): RateLimiterState;
}

/**
 * Per-caller limits by tier: token buckets for requests (with burst) and tokens per minute, and a cap
 * on calls in flight. The caller is `ctx.tenant`, its tier `ctx.tier` (unknown tiers get
 * `defaultTier`). A call over a limit is rejected at once with `RateLimitedError` (429, scope `tier`
 * or `concurrency`, `Retry-After`). Tokens are estimated with a real tokenizer and reserved before the
 * call, then settled on the provider's reported usage (streams at their end), refunded on failures and
 * cache hits. `RateLimit-Policy` / `RateLimit` headers (IETF draft) go into `ctx.decisions.headers` on
 * success and on the error on 429. With `redis`, limits are global across processes (one Lua script,
 * Redis time); while Redis is down, each process enforces `limit / instances` and `state()` says so.
 *
 * @param options.tiers limits per tier name
 * @param [options.defaultTier='default'] tier for unknown `ctx.tier`
 * @param [options.multiplier=RATE_LIMIT_MULTIPLIER ?? 1] scales every limit
 * @param [options.redis] shared connection for global limits
 * @param [options.instances=1] processes sharing the limits (fallback split)
 * @example
 * const limits = tierRateLimitPolicy({
 *   tiers: { free: { requestsPerMinute: 20, tokensPerMinute: 40_000, maxConcurrent: 2 }, pro: { requestsPerMinute: 600 } },
 *   defaultTier: 'free',
 * });
 * const create = wrapCall((req) => openai.chat.completions.create(req), [limits]);
 */
export function tierRateLimitPolicy(options: TierRateLimitOptions): TierRateLimitPolicy {
  const multiplier = resolveMultiplier('TierRateLimitOptions.multiplier', options.multiplier);
  const instances = resolveInstances('TierRateLimitOptions.instances', options.instances);
  const tiers = resolveTiers(options.tiers, options.fallbackTiers, multiplier, instances);
  const defaultTier = resolveDefaultTier(tiers, options.defaultTier);
  const defaultOutputTokens = nonNegativeNumber(
    'TierRateLimitOptions.defaultOutputTokens',
    options.defaultOutputTokens ?? 1024,
  );
  const leaseTtlMs = positiveInteger('TierRateLimitOptions.leaseTtlMs', options.leaseTtlMs ?? 300_000);
  const keyPrefix = options.keyPrefix ?? 'alchemist:rl:';
  if (typeof keyPrefix !== 'string') {
    throw new TypeError(`TierRateLimitOptions.keyPrefix must be a string, got ${JSON.stringify(keyPrefix)}`);
  }
  const { meterProvider } = options;
  const limiter = new SharedLimiter({
    clock: options.clock ?? systemClock,
    leaseTtlMs,
    ...(options.redis ? { redis: options.redis } : {}),
  });
  // Lease ids: unique per process and call, cheap (no UUID per request).
  const leasePrefix = randomUUID().slice(0, 8);
  let leaseCounter = 0;

  return {
    name: 'tierRateLimit',
    state: () => limiter.state(),
    async execute(ctx: CallContext, next) {
      const tier = tiers.get(ctx.tier) ?? defaultTier;
      if (tier.unlimited) return next(ctx);
      // Keys hash-tag the tenant so a Redis Cluster keeps one caller's keys on one slot (Lua needs it).
      const keyBase = `${keyPrefix}{${ctx.tenant}}:`;
      const needsTokens = tier.global.tokens !== undefined || tier.fallback.tokens !== undefined;
      if (needsTokens && !tokenizerLoaded()) await loadTokenizer();
      const estimate: TokenEstimate | undefined = needsTokens
        ? estimateTokens(ctx.request, defaultOutputTokens)
        : undefined;
      const leaseId = `${leasePrefix}:${++leaseCounter}`;
      let specs: TierSpecs = tier.global;
      let reserved = 0;
      const { result, backend, mode } = await limiter.acquire((fallback) => {
        specs = fallback ? tier.fallback : tier.global;
        const buckets: BucketRequest[] = [];
        if (specs.requests) buckets.push({ key: `${keyBase}r`, spec: specs.requests, cost: 1 });
        // A request larger than the whole bucket still passes when the bucket is full (then settles).
        reserved =
          specs.tokens && estimate ? Math.min(estimate.input + estimate.output, specs.tokens.capacity) : 0;
        if (specs.tokens) buckets.push({ key: `${keyBase}t`, spec: specs.tokens, cost: reserved });
        return specs.maxConcurrent === undefined
          ? { buckets }
          : { buckets, concurrency: { key: `${keyBase}c`, max: specs.maxConcurrent, leaseId } };
      });
      const used = specs;
      const snapshots = [...result.buckets];
      const headers = (): Record<string, string> => {
        if (!used.policyHeader) return {};
        return {
          [HEADER_POLICY]: used.policyHeader,
          [HEADER_STATE]: formatState(used.bucketNames, snapshots),
        };
      };
      Object.assign(ctx.decisions.headers, headers());

      const tierName = tierLabel.get(tier.name);
      const scope = result.denied ?? 'tier';
      try {
        getInstruments(meterProvider).rateLimitRequests.add(1, {
          [ATTR_RATELIMIT_RESULT]: result.allowed ? 'allowed' : 'rejected',
          [ATTR_RATELIMIT_SCOPE]: scope,
          [ATTR_TIER]: tierName,
          [ATTR_GEN_AI_REQUEST_MODEL]: modelLabel.get(ctx.model),
        });
      } catch {
        // Telemetry never breaks the call.
      }
      if (ctx.span.isRecording()) {
        const attributes: Attributes = {
          [ATTR_TIER_RESULT]: result.allowed ? 'allowed' : 'rejected',
          [ATTR_TIER_NAME]: tier.name,
          [ATTR_TIER_MODE]: mode,
          [ATTR_TIER_TOKENS_RESERVED]: reserved,
        };
        if (!result.allowed) attributes[ATTR_TIER_SCOPE] = scope;
        if (used.maxConcurrent !== undefined) attributes[ATTR_TIER_IN_FLIGHT] = result.inFlight;
        const requestsAt = used.bucketNames.indexOf('requests');
        const tokensAt = used.bucketNames.indexOf('tokens');
        if (requestsAt >= 0) attributes[ATTR_TIER_REQUESTS_REMAINING] = snapshots[requestsAt]!.remaining;
        if (tokensAt >= 0) attributes[ATTR_TIER_TOKENS_REMAINING] = snapshots[tokensAt]!.remaining;
        setSpanAttributes(ctx.span, attributes);
      }

      if (!result.allowed) {
        const retryMs =
          result.denied === 'concurrency'
            ? 1000
            : Math.max(...snapshots.map((s: BucketSnapshot) => s.retryMs));
        throw new RateLimitedError(
          result.denied === 'concurrency'
            ? `Too many concurrent requests for tier '${tier.name}' (max ${used.maxConcurrent})`
            : `Rate limit exceeded for tier '${tier.name}'`,
          scope,
          { retryAfter: Math.max(1, Math.ceil(retryMs / 1000)), headers: headers() },
        );
      }

      if (used.maxConcurrent === undefined && !(used.tokens && estimate)) return next(ctx);
      const tokensAt = used.bucketNames.indexOf('tokens');
      return runAndSettle(ctx, next, async (outcome) => {
        const lease = used.maxConcurrent === undefined ? undefined : { key: `${keyBase}c`, leaseId };
        let bucket: SettleRequest['bucket'];
        if (used.tokens && estimate) {
          const fromCache = servedFromCache(ctx);
          const actual =
            fromCache || !outcome.produced ? 0 : actualTokens(outcome.usage, estimate, outcome.output);
          setSpanAttributes(ctx.span, { [ATTR_TIER_TOKENS_SETTLED]: actual });
          if (reserved !== actual)
            bucket = { key: `${keyBase}t`, spec: used.tokens, delta: reserved - actual };
        }
        if (!lease && !bucket) return;
        // One round trip in Redis mode; a lost release expires with its lease (leaseTtlMs).
        const after = await backend.settle(
          lease && bucket ? { lease, bucket } : lease ? { lease } : { bucket },
        );
        if (after) {
          // JSON answers are settled before they are returned, so their headers show the settled level.
          snapshots[tokensAt] = after;
          Object.assign(ctx.decisions.headers, headers());
        }
      });
    },
  };
}
