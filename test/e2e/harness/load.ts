/** One request's outcome in a load run. */
export interface Sample {
  /** HTTP status, or 0 when the request failed without a response (connection error, timeout). */
  readonly status: number;
  /** Latency in ms. */
  readonly ms: number;
  /** Milliseconds since the run started, at send time. */
  readonly at: number;
  readonly error?: string;
  /** Anything the request function wants to keep (e.g. the Cache-Status header). */
  readonly note?: string;
}

export interface LoadOptions {
  /** Requests per second sent at a steady pace (open loop), whatever the latency. */
  rps: number;
  /** How long to send for, in ms. */
  durationMs: number;
  /** In-flight cap: a request is skipped (recorded as status -1) when this many are pending. @default 200 */
  maxInFlight?: number;
  /** Sends request `index`; returns its status and an optional note. */
  request: (index: number) => Promise<{ status: number; note?: string }>;
}

/**
 * Open-loop steady load: requests leave at a fixed rate whether or not earlier ones answered, so an
 * outage shows up as latency and errors instead of silently lowering the request rate.
 */
export async function runLoad(options: LoadOptions): Promise<Sample[]> {
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  const maxInFlight = options.maxInFlight ?? 200;
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < options.durationMs) {
    const due = Math.floor(((performance.now() - started) / 1000) * options.rps);
    while (sent < due) {
      const index = sent++;
      const at = performance.now() - started;
      if (pending.size >= maxInFlight) {
        samples.push({ status: -1, ms: 0, at, error: 'client in-flight cap reached' });
        continue;
      }
      const run = options.request(index).then(
        ({ status, note }) => {
          samples.push({ status, ms: performance.now() - started - at, at, ...(note ? { note } : {}) });
        },
        (error: unknown) => {
          samples.push({ status: 0, ms: performance.now() - started - at, at, error: String(error) });
        },
      );
      const tracked = run.finally(() => pending.delete(tracked));
      pending.add(tracked);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(pending);
  return samples.sort((a, b) => a.at - b.at);
}

/** Nearest-rank percentile (p in 0..100) of values; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Counts by status and latency percentiles, for reports and failure messages. */
export function summarize(samples: readonly Sample[]): {
  count: number;
  byStatus: Record<string, number>;
  p50: number;
  p95: number;
  p99: number;
  max: number;
} {
  const byStatus: Record<string, number> = {};
  for (const sample of samples) byStatus[sample.status] = (byStatus[sample.status] ?? 0) + 1;
  const latencies = samples.filter((s) => s.status > 0).map((s) => s.ms);
  return {
    count: samples.length,
    byStatus,
    p50: round(percentile(latencies, 50)),
    p95: round(percentile(latencies, 95)),
    p99: round(percentile(latencies, 99)),
    max: round(latencies.length === 0 ? Number.NaN : Math.max(...latencies)),
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Run `fn` over `items` with at most `concurrency` in flight; results in input order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
