import type { MeterProvider } from '@opentelemetry/api';
import { BREAKER_STATES } from '../breaker/circuit.ts';
import type { FailureReason } from '../breaker/classify.ts';
import { recordBreakerState } from '../breaker/telemetry.ts';
import type { CacheLayer, CacheResult } from '../cache/types.ts';
import { getInstruments } from './instruments.ts';
import { modelLabel, providerLabel, tierLabel } from './labels.ts';
import type { Outcome, RequestCacheResult } from './request.ts';
import { OUTCOMES, requestAttributes } from './request.ts';
import {
  ATTR_BREAKER_NAME,
  ATTR_BREAKER_STATE,
  ATTR_BUDGET_RESULT,
  ATTR_CACHE_LAYER,
  ATTR_CACHE_RESULT,
  ATTR_FALLBACK_MODEL,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_RATELIMIT_RESULT,
  ATTR_RATELIMIT_SCOPE,
  ATTR_RETRY_REASON,
  ATTR_TIER,
} from './semconv.ts';

/** What a gateway (or an app) knows at start: the label values its decisions can carry. */
export interface SeriesPlan {
  /** Configured models, each with the provider its calls go to (as on `CallContext.provider`). */
  readonly models: readonly {
    readonly model: string;
    readonly provider: string;
    /** Its well-known `gen_ai.provider.name` (as on `CallContext.genAiProvider`). @default provider */
    readonly genAiProvider?: string;
    /** Fallback models answering for it. @default none */
    readonly fallbacks?: readonly string[];
    /** Whether an outbound (per-model) limit applies. @default false */
    readonly outboundLimit?: boolean;
  }[];
  /** Tier names the inbound limiter decides for. */
  readonly tiers: readonly string[];
  /** Cache layers lookups can report, or none when the cache is off. */
  readonly cacheLayers: readonly CacheLayer[];
  /** Tiers whose callers have a spend budget. @default none */
  readonly budgetTiers?: readonly string[];
}

const CACHE_RESULTS: readonly CacheResult[] = ['hit', 'miss', 'stale', 'bypass', 'coalesced', 'error'];
const RETRY_REASONS: readonly FailureReason[] = ['5xx', '429', 'timeout', 'connection'];

/**
 * The (outcome, cache result) pairs `alchemist.request.duration` is created with. Not the full product
 * (9 × 7, and each histogram series is 20 Prometheus series): a success can carry any cache result; a
 * 429 comes from the tier limit, before the cache (`none`); any other failure follows a miss, a
 * coalesced wait on a failed call, or no cache (`none`). Rarer pairs (a failing `no-store` request)
 * are created by their first recording.
 */
export function requestSeries(cacheOn: boolean): [Outcome, RequestCacheResult][] {
  if (!cacheOn) return OUTCOMES.map((outcome) => [outcome, 'none']);
  const pairs: [Outcome, RequestCacheResult][] = [...CACHE_RESULTS, 'none' as const].map((result) => [
    'success',
    result,
  ]);
  pairs.push(['rate_limited', 'none']);
  for (const outcome of OUTCOMES) {
    if (outcome === 'success' || outcome === 'rate_limited') continue;
    for (const result of ['miss', 'coalesced', 'none'] as const) pairs.push([outcome, result]);
  }
  return pairs;
}

/**
 * Create every counter and histogram series a known decision can land in, at 0, before any traffic.
 * Prometheus' `rate()` and `increase()` only see a counter grow between two samples, so a series
 * created by its first event hides that event (on a fresh gateway, 40 of 73 requests never showed).
 * Label values are closed unions crossed with the configured models and tiers, so the count is
 * bounded: per model 29 request-duration label sets (cache on), 4 retry reasons, its fallbacks, 3
 * breaker transitions × 2 breakers, its queue-wait histogram if it has an outbound limit; per
 * model × tier 6 rate-limit decisions and 1 cost series; per budgeted tier 2 budget decisions and 1
 * spend series.
 *
 * A histogram series is created by recording NaN: the SDK creates the data point and then drops the
 * value (sdk-metrics `HistogramAccumulation.record`), so count and sum stay 0; a test pins it.
 */
export function primeSeries(plan: SeriesPlan, meterProvider?: MeterProvider): void {
  try {
    const instruments = getInstruments(meterProvider);
    const cacheOn = plan.cacheLayers.length > 0;
    if (cacheOn) {
      instruments.cacheRequests.add(0, { [ATTR_CACHE_RESULT]: 'bypass' });
      for (const result of CACHE_RESULTS) {
        if (result === 'bypass') continue;
        for (const layer of plan.cacheLayers)
          instruments.cacheRequests.add(0, { [ATTR_CACHE_RESULT]: result, [ATTR_CACHE_LAYER]: layer });
      }
    }
    for (const tier of plan.budgetTiers ?? []) {
      const withTier = { [ATTR_TIER]: tierLabel.get(tier) };
      instruments.budgetSpent.add(0, withTier);
      for (const result of ['allowed', 'rejected'])
        instruments.budgetRequests.add(0, { ...withTier, [ATTR_BUDGET_RESULT]: result });
    }
    const pairs = requestSeries(cacheOn);
    for (const {
      model,
      provider,
      genAiProvider = provider,
      fallbacks = [],
      outboundLimit = false,
    } of plan.models) {
      const modelAndProvider = {
        [ATTR_GEN_AI_REQUEST_MODEL]: modelLabel.get(model),
        [ATTR_GEN_AI_PROVIDER_NAME]: providerLabel.get(genAiProvider),
      };
      for (const [outcome, result] of pairs) {
        instruments.requestDuration.record(
          Number.NaN,
          requestAttributes(result, model, genAiProvider, outcome),
        );
      }
      if (cacheOn) instruments.cacheTokensSaved.add(0, modelAndProvider);
      for (const reason of RETRY_REASONS)
        instruments.retryAttempts.add(0, { ...modelAndProvider, [ATTR_RETRY_REASON]: reason });
      for (const fallback of fallbacks) {
        instruments.fallbacks.add(0, {
          [ATTR_GEN_AI_REQUEST_MODEL]: modelLabel.get(model),
          [ATTR_FALLBACK_MODEL]: modelLabel.get(fallback),
        });
      }
      for (const name of [provider, `${provider}/${model}`]) {
        recordBreakerState(name, 'closed', meterProvider);
        for (const state of BREAKER_STATES)
          instruments.breakerTransitions.add(0, { [ATTR_BREAKER_NAME]: name, [ATTR_BREAKER_STATE]: state });
      }
      for (const tier of plan.tiers) {
        const withTier = { ...modelAndProvider, [ATTR_TIER]: tierLabel.get(tier) };
        instruments.cost.add(0, withTier);
        if (cacheOn) instruments.cacheCostSaved.add(0, withTier);
        const decision = (result: string, scope: string) =>
          instruments.rateLimitRequests.add(0, {
            [ATTR_RATELIMIT_RESULT]: result,
            [ATTR_RATELIMIT_SCOPE]: scope,
            [ATTR_TIER]: tierLabel.get(tier),
            [ATTR_GEN_AI_REQUEST_MODEL]: modelLabel.get(model),
          });
        decision('allowed', 'tier');
        decision('rejected', 'tier');
        decision('rejected', 'concurrency');
        if (outboundLimit) for (const result of ['allowed', 'queued', 'rejected']) decision(result, 'model');
      }
      if (outboundLimit) {
        instruments.rateLimitQueueDuration.record(Number.NaN, {
          [ATTR_RATELIMIT_SCOPE]: 'model',
          [ATTR_GEN_AI_REQUEST_MODEL]: modelLabel.get(model),
        });
      }
    }
  } catch {
    // Telemetry never breaks the gateway.
  }
}
