import { ConsecutiveBreaker } from 'cockatiel';
import type { Clock } from '../core/clock.ts';

/** Failure counts a breaker reports in its state snapshot. */
export interface FailureCounts {
  /** Failures counted toward opening (consecutive failures, or failures in the sampling window). */
  readonly failures: number;
  /** Calls counted in the sampling window (consecutive mode: failures too). */
  readonly calls: number;
}

/** Where a counted failure happened, for strategies that look at more than counts. */
export interface FailureDetail {
  /** The model's breaker key (`gpt-4o`, or `_OTHER` for models without their own breaker). */
  readonly model?: string;
  /** Connection refused/reset, DNS or TLS: the provider as a whole failed, not one model. */
  readonly providerLevel?: boolean;
}

/** Decides when a closed breaker opens. Fed only while the breaker is closed. */
export interface TripStrategy {
  success(): void;
  /** Record a failure; true when the breaker must open. */
  failure(detail: FailureDetail): boolean;
  /** A half-open probe failed: true when the breaker must reopen. @default always */
  probeFailed?(detail: FailureDetail): boolean;
  /** The breaker opened (what led to it is spent). */
  opened?(): void;
  /** Forget everything (on closing after a successful probe). */
  reset(): void;
  counts(): FailureCounts;
}

/**
 * Open after `threshold` failures in a row; a success resets the count. Cockatiel's
 * `ConsecutiveBreaker` does the counting.
 */
export function consecutiveStrategy(threshold: number): TripStrategy {
  let counter = new ConsecutiveBreaker(threshold);
  return {
    success: () => counter.success(),
    failure: () => counter.failure(),
    reset: () => {
      counter = new ConsecutiveBreaker(threshold);
    },
    counts: () => ({ failures: counter.state, calls: counter.state }),
  };
}

export interface SamplingSettings {
  /** Failure ratio (0 < r ≤ 1) at or above which the breaker opens. */
  readonly threshold: number;
  /** Length of the sliding window, ms. */
  readonly windowMs: number;
  /** Calls the window must hold before the ratio is trusted (minimum throughput). */
  readonly minimumCalls: number;
}

const BUCKETS = 10;

/**
 * Open when, over the last `windowMs`, at least `minimumCalls` calls were made and the failure ratio
 * reached `threshold`. The window slides in tenths, on the injected clock (cockatiel's
 * `SamplingBreaker` reads `Date.now()` and counts throughput as requests per second, so it can be
 * driven by neither an injected clock nor a call-count minimum).
 */
export function samplingStrategy(settings: SamplingSettings, clock: Clock): TripStrategy {
  const bucketMs = settings.windowMs / BUCKETS;
  // Ring of buckets keyed by their bucket number (floor(now / bucketMs)).
  const buckets = Array.from({ length: BUCKETS }, () => ({ id: -1, failures: 0, calls: 0 }));
  const current = () => {
    const id = Math.floor(clock.now() / bucketMs);
    const bucket = buckets[id % BUCKETS] as { id: number; failures: number; calls: number };
    if (bucket.id !== id) {
      bucket.id = id;
      bucket.failures = 0;
      bucket.calls = 0;
    }
    return bucket;
  };
  const counts = (): FailureCounts => {
    const newest = Math.floor(clock.now() / bucketMs);
    let failures = 0;
    let calls = 0;
    for (const bucket of buckets) {
      if (bucket.id > newest - BUCKETS && bucket.id <= newest) {
        failures += bucket.failures;
        calls += bucket.calls;
      }
    }
    return { failures, calls };
  };
  return {
    success() {
      current().calls++;
    },
    failure() {
      const bucket = current();
      bucket.calls++;
      bucket.failures++;
      const { failures, calls } = counts();
      return calls >= settings.minimumCalls && failures / calls >= settings.threshold;
    },
    reset() {
      for (const bucket of buckets) {
        bucket.id = -1;
        bucket.failures = 0;
        bucket.calls = 0;
      }
    },
    counts,
  };
}

export interface SpanSettings {
  /** Distinct failing models at which failures are the provider's (read at each failure). */
  readonly minModels: () => number;
  /** Sampling mode: how long a model's failure counts. Consecutive mode (undefined): until a success. */
  readonly windowMs: number | undefined;
  readonly clock: Clock;
}

const PROVIDER_LEVEL = Symbol('provider-level');

/**
 * The provider-wide breaker's strategy: `inner` counts every failure of the provider's models, but the
 * breaker opens only when the counted failures also span the provider: a provider-level failure
 * (connection, DNS, TLS) among them, or `minModels()` distinct failing models. One bad model (or one
 * tenant's hanging requests to it) thus opens that model's breaker and never blocks its siblings.
 * A failed half-open probe reopens it on the same condition, counted afresh since it opened.
 */
export function spanningStrategy(inner: TripStrategy, settings: SpanSettings): TripStrategy {
  // Failing model (breaker key, bounded by the registry) → when it last failed, oldest first.
  const failing = new Map<string | typeof PROVIDER_LEVEL, number>();
  const note = (detail: FailureDetail) => {
    const key = detail.providerLevel ? PROVIDER_LEVEL : (detail.model ?? '');
    failing.delete(key);
    failing.set(key, settings.clock.now());
  };
  const spanned = () => {
    if (settings.windowMs !== undefined) {
      const expired = settings.clock.now() - settings.windowMs;
      for (const [key, at] of failing) {
        if (at > expired) break;
        failing.delete(key);
      }
    }
    return failing.has(PROVIDER_LEVEL) || failing.size >= settings.minModels();
  };
  return {
    success() {
      inner.success();
      if (settings.windowMs === undefined) failing.clear();
    },
    failure(detail) {
      const trips = inner.failure(detail);
      note(detail);
      return trips && spanned();
    },
    probeFailed(detail) {
      note(detail);
      return spanned();
    },
    opened: () => failing.clear(),
    reset() {
      inner.reset();
      failing.clear();
    },
    counts: () => inner.counts(),
  };
}
