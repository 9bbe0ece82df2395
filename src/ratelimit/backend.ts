import type { BucketSnapshot, BucketSpec } from './bucket.ts';

/** One bucket to draw `cost` units from. */
export interface BucketRequest {
  readonly key: string;
  readonly spec: BucketSpec;
  readonly cost: number;
}

/** A concurrency slot to take: at most `max` leases live under `key` at once. */
export interface ConcurrencyRequest {
  readonly key: string;
  readonly max: number;
  /** Unique per call: the lease released when the call ends. */
  readonly leaseId: string;
}

/** Everything one call needs, taken all-or-nothing. */
export interface AcquireRequest {
  readonly buckets: readonly BucketRequest[];
  readonly concurrency?: ConcurrencyRequest;
}

export interface AcquireResult {
  readonly allowed: boolean;
  /** Which limit said no: a bucket (`tier`) or the concurrency cap. */
  readonly denied?: 'tier' | 'concurrency';
  /** One snapshot per requested bucket, in order, after the decision. */
  readonly buckets: readonly BucketSnapshot[];
  /** Leases held under the concurrency key after the decision. */
  readonly inFlight: number;
}

/** What to give back when a call ends: its concurrency lease and/or a bucket correction. */
export interface SettleRequest {
  /** Refund (`delta > 0`) or charge more (`delta < 0`, may go into debt). */
  readonly bucket?: { readonly key: string; readonly spec: BucketSpec; readonly delta: number };
  readonly lease?: { readonly key: string; readonly leaseId: string };
}

/**
 * Where buckets and concurrency leases live: this process (`LocalBackend`) or Redis
 * (`RedisBackend`). `acquire` is atomic: either every bucket and the slot are taken, or nothing is.
 */
export interface LimiterBackend {
  acquire(request: AcquireRequest): AcquireResult | Promise<AcquireResult>;
  /** End a call in one step: release its lease, correct its bucket. Returns the bucket's new state. */
  settle(request: SettleRequest): BucketSnapshot | undefined | Promise<BucketSnapshot | undefined>;
}
