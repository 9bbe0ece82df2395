import type { Attributes } from '@opentelemetry/api';
import type { DataPoint, Histogram, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { INSTRUMENT_SPECS } from '../../telemetry/instruments.ts';
import {
  ATTR_BREAKER_NAME,
  ATTR_BREAKER_STATE,
  ATTR_CACHE_RESULT,
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_TOKEN_TYPE,
  ATTR_OUTCOME,
  ATTR_RATELIMIT_RESULT,
  ATTR_RATELIMIT_SCOPE,
  ATTR_STORE,
  ATTR_TIER,
} from '../../telemetry/semconv.ts';
import { type Buckets, histogramQuantile, mergeBuckets } from './quantile.ts';

/** Latency percentiles in milliseconds (estimated from histogram buckets, like Prometheus). */
export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number | null;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
}

/** `GET /admin/stats`: a summary of the gateway's own OTel instruments since start. */
export interface StatsSummary {
  readonly requests: {
    readonly total: number;
    readonly active: number;
    readonly byOutcome: Record<string, number>;
  };
  readonly latency: LatencySummary & { readonly byCacheResult: Record<string, LatencySummary> };
  readonly cache: {
    readonly lookups: number;
    readonly hits: number;
    readonly hitRate: number | null;
    readonly byResult: Record<string, number>;
    readonly tokensSaved: number;
    readonly costSavedUsd: number;
  };
  readonly upstream: {
    readonly calls: number;
    readonly errors: number;
    readonly latency: LatencySummary;
    readonly inputTokens: number;
    readonly outputTokens: number;
    readonly retries: number;
    readonly fallbacks: number;
  };
  readonly rateLimit: {
    readonly byResult: Record<string, number>;
    /** Rejections per tier, then per scope (tier, model, concurrency). */
    readonly rejectionsByTier: Record<string, Record<string, number>>;
  };
  /** Breaker name → its current state. */
  readonly breakers: Record<string, string>;
  /** Store name → `up` / `down`, from `alchemist.store.available`. */
  readonly stores: Record<string, 'up' | 'down'>;
  readonly cost: { readonly totalUsd: number; readonly byModel: Record<string, number> };
}

type Point = DataPoint<unknown>;

function pointsOf(metrics: ResourceMetrics, name: string): Point[] {
  const found: Point[] = [];
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name === name) found.push(...(metric.dataPoints as Point[]));
    }
  }
  return found;
}

function label(attributes: Attributes, name: string, fallback = 'unknown'): string {
  const value = attributes[name];
  return value === undefined ? fallback : String(value);
}

function sum(points: readonly Point[]): number {
  return points.reduce((total, point) => total + (point.value as number), 0);
}

function sumBy(points: readonly Point[], attribute: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const point of points) {
    const key = label(point.attributes, attribute);
    out[key] = (out[key] ?? 0) + (point.value as number);
  }
  return out;
}

function round(value: number | undefined, digits = 3): number | null {
  if (value === undefined || !Number.isFinite(value)) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Percentiles of histogram points recorded in seconds, reported in ms. */
export function latencyOf(points: readonly Point[]): LatencySummary {
  const histograms = points.map((point) => point.value as Histogram);
  const count = histograms.reduce((total, h) => total + h.count, 0);
  const total = histograms.reduce((acc, h) => acc + (h.sum ?? 0), 0);
  const merged = mergeBuckets(histograms.map((h) => h.buckets as Buckets));
  const quantile = (q: number) =>
    merged ? round((histogramQuantile(q, merged) ?? Number.NaN) * 1000) : null;
  return {
    count,
    meanMs: count > 0 ? round((total / count) * 1000) : null,
    p50Ms: quantile(0.5),
    p95Ms: quantile(0.95),
    p99Ms: quantile(0.99),
  };
}

/** Compute the admin summary from one collection of the package's instruments. */
export function summarize(metrics: ResourceMetrics): StatsSummary {
  const duration = pointsOf(metrics, INSTRUMENT_SPECS.requestDuration.name);
  const byOutcome: Record<string, number> = {};
  const byCacheResultPoints = new Map<string, Point[]>();
  for (const point of duration) {
    const outcome = label(point.attributes, ATTR_OUTCOME);
    byOutcome[outcome] = (byOutcome[outcome] ?? 0) + (point.value as Histogram).count;
    const cacheResult = label(point.attributes, ATTR_CACHE_RESULT, 'none');
    byCacheResultPoints.set(cacheResult, [...(byCacheResultPoints.get(cacheResult) ?? []), point]);
  }
  const byCacheResult: Record<string, LatencySummary> = {};
  for (const [result, points] of byCacheResultPoints) byCacheResult[result] = latencyOf(points);

  const cacheByResult = sumBy(pointsOf(metrics, INSTRUMENT_SPECS.cacheRequests.name), ATTR_CACHE_RESULT);
  // The one hit-rate definition (README, Metrics): answered from the cache (hit, stale) among the
  // requests that looked in it. Bypassed requests (no-store) never looked; errors are lookups that
  // could not answer; a coalesced call waited for an upstream answer, the cache gave none.
  const hits = (cacheByResult.hit ?? 0) + (cacheByResult.stale ?? 0);
  const lookups = Object.entries(cacheByResult)
    .filter(([result]) => result !== 'bypass')
    .reduce((total, [, count]) => total + count, 0);

  const operation = pointsOf(metrics, INSTRUMENT_SPECS.operationDuration.name);
  const tokens = sumBy(
    pointsOf(metrics, INSTRUMENT_SPECS.tokenUsage.name).map(histogramSumPoint),
    ATTR_GEN_AI_TOKEN_TYPE,
  );

  const rateLimit = pointsOf(metrics, INSTRUMENT_SPECS.rateLimitRequests.name);
  const rejectionsByTier: Record<string, Record<string, number>> = {};
  for (const point of rateLimit) {
    if (point.attributes[ATTR_RATELIMIT_RESULT] !== 'rejected') continue;
    const tier = label(point.attributes, ATTR_TIER, 'none');
    const scope = label(point.attributes, ATTR_RATELIMIT_SCOPE);
    const perTier = rejectionsByTier[tier] ?? {};
    rejectionsByTier[tier] = perTier;
    perTier[scope] = (perTier[scope] ?? 0) + (point.value as number);
  }

  const breakers: Record<string, string> = {};
  for (const point of pointsOf(metrics, INSTRUMENT_SPECS.breakerState.name)) {
    if (point.value === 1)
      breakers[label(point.attributes, ATTR_BREAKER_NAME)] = label(point.attributes, ATTR_BREAKER_STATE);
  }
  const stores: Record<string, 'up' | 'down'> = {};
  for (const point of pointsOf(metrics, INSTRUMENT_SPECS.storeAvailable.name)) {
    stores[label(point.attributes, ATTR_STORE)] = point.value === 1 ? 'up' : 'down';
  }
  const costPoints = pointsOf(metrics, INSTRUMENT_SPECS.cost.name);

  return {
    requests: {
      total: duration.reduce((total, point) => total + (point.value as Histogram).count, 0),
      active: sum(pointsOf(metrics, INSTRUMENT_SPECS.activeRequests.name)),
      byOutcome,
    },
    latency: { ...latencyOf(duration), byCacheResult },
    cache: {
      lookups,
      hits,
      hitRate: lookups > 0 ? round(hits / lookups, 4) : null,
      byResult: cacheByResult,
      tokensSaved: sum(pointsOf(metrics, INSTRUMENT_SPECS.cacheTokensSaved.name)),
      costSavedUsd: round(sum(pointsOf(metrics, INSTRUMENT_SPECS.cacheCostSaved.name)), 6) ?? 0,
    },
    upstream: {
      calls: operation.reduce((total, point) => total + (point.value as Histogram).count, 0),
      errors: operation
        .filter((point) => point.attributes[ATTR_ERROR_TYPE] !== undefined)
        .reduce((total, point) => total + (point.value as Histogram).count, 0),
      latency: latencyOf(operation),
      inputTokens: tokens.input ?? 0,
      outputTokens: tokens.output ?? 0,
      retries: sum(pointsOf(metrics, INSTRUMENT_SPECS.retryAttempts.name)),
      fallbacks: sum(pointsOf(metrics, INSTRUMENT_SPECS.fallbacks.name)),
    },
    rateLimit: { byResult: sumBy(rateLimit, ATTR_RATELIMIT_RESULT), rejectionsByTier },
    breakers,
    stores,
    cost: {
      totalUsd: round(sum(costPoints), 6) ?? 0,
      byModel: Object.fromEntries(
        Object.entries(sumBy(costPoints, ATTR_GEN_AI_REQUEST_MODEL)).map(([model, usd]) => [
          model,
          round(usd, 6) ?? 0,
        ]),
      ),
    },
  };
}

/** A histogram point seen as a counter of its sum (token usage totals). */
function histogramSumPoint(point: Point): Point {
  return { ...point, value: (point.value as Histogram).sum ?? 0 };
}
