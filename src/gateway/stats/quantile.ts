/** Explicit-bucket histogram data: `counts[i]` observations in (boundaries[i-1], boundaries[i]]; the last is +Inf. */
export interface Buckets {
  readonly boundaries: readonly number[];
  readonly counts: readonly number[];
}

/** Add histogram buckets that share boundaries (points of one instrument with different attributes). */
export function mergeBuckets(all: readonly Buckets[]): Buckets | undefined {
  const first = all[0];
  if (!first) return undefined;
  const counts = [...first.counts];
  for (const other of all.slice(1)) {
    if (other.boundaries.length !== first.boundaries.length) continue;
    other.counts.forEach((count, index) => {
      counts[index] = (counts[index] ?? 0) + count;
    });
  }
  return { boundaries: first.boundaries, counts };
}

/**
 * The q-quantile estimated from buckets exactly as Prometheus' `histogram_quantile()` does: find the
 * bucket holding rank q·total and interpolate linearly inside it (lower bound 0 for the first bucket);
 * a rank in the +Inf bucket answers the highest finite boundary. Undefined when empty.
 * https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile
 */
export function histogramQuantile(q: number, buckets: Buckets): number | undefined {
  const total = buckets.counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < buckets.counts.length; i++) {
    const count = buckets.counts[i]!;
    const previous = cumulative;
    cumulative += count;
    if (cumulative >= rank && count > 0) {
      const upper = buckets.boundaries[i];
      if (upper === undefined) return buckets.boundaries.at(-1);
      const lower = i === 0 ? Math.min(0, upper) : buckets.boundaries[i - 1]!;
      return lower + (upper - lower) * ((rank - previous) / count);
    }
  }
  return buckets.boundaries.at(-1);
}
