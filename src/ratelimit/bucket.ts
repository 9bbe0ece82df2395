/**
 * Token-bucket arithmetic shared by the local store and the Redis Lua script (which repeats it).
 * A bucket holds up to `capacity` units and regains `perWindow` units every `windowMs`, continuously.
 * Refill is computed as `elapsed * perWindow / windowMs` (multiply first) so whole-second steps of
 * whole-number rates stay exact in floating point: 60/min after 1000 ms is exactly 1 unit.
 */
export interface BucketSpec {
  /** Most units the bucket holds (the burst). */
  readonly capacity: number;
  /** Units regained per window (the steady rate). */
  readonly perWindow: number;
  readonly windowMs: number;
}

/** What a bucket looks like right after a decision. */
export interface BucketSnapshot {
  /** Whole units left now (never negative). */
  readonly remaining: number;
  /** Milliseconds until the bucket is full again (0 when full). */
  readonly resetMs: number;
  /** Milliseconds until `cost` units are available (0 when they are now). */
  readonly retryMs: number;
}

/** Tokens now, given the stored level and when it was stored. Debt (negative levels) refills too. */
export function refill(spec: BucketSpec, tokens: number, at: number, now: number): number {
  const elapsed = now > at ? now - at : 0;
  const level = tokens + (elapsed * spec.perWindow) / spec.windowMs;
  return Math.min(level, spec.capacity);
}

/** Milliseconds until a bucket at `tokens` holds `wanted` units. */
export function msUntil(spec: BucketSpec, tokens: number, wanted: number): number {
  if (tokens >= wanted) return 0;
  return Math.ceil(((wanted - tokens) * spec.windowMs) / spec.perWindow);
}

/** Describe a bucket at `tokens`, for a caller that wants `cost` units. */
export function snapshot(spec: BucketSpec, tokens: number, cost: number): BucketSnapshot {
  // Float residue (0.9999999) must not hide a whole unit.
  const remaining = Math.max(0, Math.floor(tokens + 1e-9));
  return {
    remaining,
    resetMs: msUntil(spec, tokens, spec.capacity),
    retryMs: msUntil(spec, tokens, Math.min(cost, spec.capacity)),
  };
}
