import type { Clock } from '../core/clock.ts';
import type { AcquireRequest, AcquireResult, LimiterBackend, SettleRequest } from './backend.ts';
import type { BucketSnapshot, BucketSpec } from './bucket.ts';
import { refill, snapshot } from './bucket.ts';

interface Level {
  tokens: number;
  at: number;
  /** Capacity of the spec last used, so a sweep knows when the bucket is full (= forgettable). */
  spec: BucketSpec;
}

/**
 * Buckets and concurrency counters in this process. Synchronous, so a decision costs a few Map
 * operations. Full buckets are indistinguishable from absent ones, so a sweep drops them once the
 * map grows past `sweepAbove`: memory stays bounded by the callers active in the last window.
 */
export class LocalBackend implements LimiterBackend {
  readonly #clock: Clock;
  readonly #levels = new Map<string, Level>();
  readonly #leases = new Map<string, Set<string>>();
  readonly #sweepAbove: number;
  #nextSweep: number;

  constructor(clock: Clock, sweepAbove = 10_000) {
    this.#clock = clock;
    this.#sweepAbove = sweepAbove;
    this.#nextSweep = sweepAbove;
  }

  /** Buckets currently remembered (for tests and the memory bound). */
  get size(): number {
    return this.#levels.size;
  }

  #level(key: string, spec: BucketSpec, now: number): number {
    const level = this.#levels.get(key);
    return level ? refill(spec, level.tokens, level.at, now) : spec.capacity;
  }

  acquire(request: AcquireRequest): AcquireResult {
    const now = this.#clock.now();
    const { buckets, concurrency } = request;
    const held = concurrency ? (this.#leases.get(concurrency.key)?.size ?? 0) : 0;
    let denied: AcquireResult['denied'];
    if (concurrency && held >= concurrency.max) denied = 'concurrency';
    const levels: number[] = [];
    for (const bucket of buckets) {
      const level = this.#level(bucket.key, bucket.spec, now);
      levels.push(level);
      if (!denied && level < bucket.cost) denied = 'tier';
    }
    const snapshots: BucketSnapshot[] = [];
    for (let i = 0; i < buckets.length; i++) {
      const bucket = buckets[i]!;
      let level = levels[i]!;
      if (!denied) {
        level -= bucket.cost;
        this.#levels.set(bucket.key, { tokens: level, at: now, spec: bucket.spec });
      }
      snapshots.push(snapshot(bucket.spec, level, bucket.cost));
    }
    let inFlight = held;
    if (!denied && concurrency) {
      let set = this.#leases.get(concurrency.key);
      if (!set) {
        set = new Set();
        this.#leases.set(concurrency.key, set);
      }
      set.add(concurrency.leaseId);
      inFlight = set.size;
    }
    if (this.#levels.size > this.#nextSweep) this.#sweep(now);
    return denied
      ? { allowed: false, denied, buckets: snapshots, inFlight }
      : { allowed: true, buckets: snapshots, inFlight };
  }

  settle(request: SettleRequest): BucketSnapshot | undefined {
    const { lease, bucket } = request;
    if (lease) {
      const set = this.#leases.get(lease.key);
      set?.delete(lease.leaseId);
      if (set?.size === 0) this.#leases.delete(lease.key);
    }
    if (!bucket) return undefined;
    const now = this.#clock.now();
    const level = Math.min(bucket.spec.capacity, this.#level(bucket.key, bucket.spec, now) + bucket.delta);
    this.#levels.set(bucket.key, { tokens: level, at: now, spec: bucket.spec });
    return snapshot(bucket.spec, level, 0);
  }

  #sweep(now: number): void {
    for (const [key, level] of this.#levels) {
      if (refill(level.spec, level.tokens, level.at, now) >= level.spec.capacity) this.#levels.delete(key);
    }
    // Sweep again only after the map doubles from what is left: amortised O(1) per decision.
    this.#nextSweep = Math.max(this.#sweepAbove, this.#levels.size * 2);
  }
}
