import { ConsecutiveBreaker } from 'cockatiel';
import type { Clock } from '../core/clock.ts';

/** Failure counts a breaker reports in its state snapshot. */
export interface FailureCounts {
  /** Failures counted toward opening (consecutive failures, or failures in the sampling window). */
  readonly failures: number;
  /** Calls counted in the sampling window (consecutive mode: failures too). */
  readonly calls: number;
}

/** Decides when a closed breaker opens. Fed only while the breaker is closed. */
export interface TripStrategy {
  success(): void;
  /** Record a failure; true when the breaker must open. */
  failure(): boolean;
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
