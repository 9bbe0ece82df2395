import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { Percentiles } from './types.ts';
import type { BodyFor } from './workload.ts';

/** One closed-loop load phase: `connections` virtual users, each sending its next request on an answer. */
export interface LoadOptions {
  /** Origin of the system under test, e.g. `http://127.0.0.1:40123`. */
  readonly origin: string;
  /** Shared connection pool to the origin (kept across phases so warm-up opens the sockets). */
  readonly pool: Pool;
  /** @default '/v1/chat/completions' */
  readonly path?: string;
  readonly connections: number;
  readonly durationMs: number;
  readonly body: BodyFor;
  /** Extra request headers, over the defaults (a peer gateway's routing headers). */
  readonly headers?: Readonly<Record<string, string>>;
  /** First sequence number, so consecutive phases continue the same prompt sequence. @default 0 */
  readonly firstIndex?: number;
  /** Stop after this many requests even before `durationMs` (used to pre-fill caches). */
  readonly maxRequests?: number;
  /** Called about every 250 ms with the requests completed so far. */
  readonly onProgress?: (completed: number, elapsedMs: number) => void;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly elapsedMs: number;
  readonly throughput: number;
  readonly latencyMs: Percentiles;
  /** Time to the first body byte, for every request (equals latency for small JSON answers). */
  readonly ttfbMs: Percentiles;
  /** 2xx answers whose `Cache-Status` header reports a hit (RFC 9211 `hit` parameter). */
  readonly hits: number;
  readonly nextIndex: number;
  /** First error seen, to say why a run failed. */
  readonly firstError?: string;
}

const HEADERS = {
  'content-type': 'application/json',
  authorization: 'Bearer bench-client-key',
};

/** Stop a phase whose server is clearly gone instead of spinning on instant failures. */
const MAX_CONSECUTIVE_ERRORS = 500;

function newHistogram(): RecordableHistogram {
  // Microseconds from 1 µs to 10 min, 3 significant figures (HdrHistogram, built into Node).
  return createHistogram({ lowest: 1, highest: 600_000_000, figures: 3 });
}

function percentiles(histogram: RecordableHistogram): Percentiles {
  if (histogram.count === 0) return { p50: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    p50: ms(histogram.percentile(50)),
    p95: ms(histogram.percentile(95)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
    mean: ms(histogram.mean),
  };
}

function isHit(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : header;
  // `Cache-Status: alchemist-perf; hit; ttl=3541`: a `hit` parameter on our cache's entry.
  return value !== undefined && /;\s*hit\b/.test(value);
}

/** A connection pool to a system under test; close it when the system is done. */
export function createPool(origin: string, connections: number): Pool {
  return new Pool(origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
}

/**
 * Drive a system with a closed loop: each virtual user sends a request, reads the whole answer
 * (streams included), records latency and time to first byte, and sends the next one.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const path = options.path ?? '/v1/chat/completions';
  const headers = options.headers ? { ...HEADERS, ...options.headers } : HEADERS;
  const latency = newHistogram();
  const ttfb = newHistogram();
  let next = options.firstIndex ?? 0;
  const last = options.maxRequests === undefined ? Number.POSITIVE_INFINITY : next + options.maxRequests;
  let requests = 0;
  let errors = 0;
  let hits = 0;
  let consecutiveErrors = 0;
  let firstError: string | undefined;
  const startedAt = performance.now();
  const deadline = startedAt + options.durationMs;
  let finishedAt = startedAt;

  const progress = options.onProgress
    ? setInterval(() => options.onProgress?.(requests, performance.now() - startedAt), 250)
    : undefined;

  const user = async () => {
    while (performance.now() < deadline && next < last && consecutiveErrors < MAX_CONSECUTIVE_ERRORS) {
      const body = options.body(next++);
      const sentAt = performance.now();
      try {
        const response = await options.pool.request({ path, method: 'POST', headers, body });
        let firstByteAt = 0;
        for await (const chunk of response.body) {
          if (firstByteAt === 0 && (chunk as Buffer).length > 0) firstByteAt = performance.now();
        }
        const doneAt = performance.now();
        requests++;
        finishedAt = doneAt;
        latency.record(Math.max(1, Math.round((doneAt - sentAt) * 1000)));
        ttfb.record(Math.max(1, Math.round(((firstByteAt || doneAt) - sentAt) * 1000)));
        if (response.statusCode >= 200 && response.statusCode < 300) {
          consecutiveErrors = 0;
          if (isHit(response.headers['cache-status'])) hits++;
        } else {
          errors++;
          consecutiveErrors++;
          firstError ??= `HTTP ${response.statusCode}`;
        }
      } catch (error) {
        errors++;
        consecutiveErrors++;
        firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.connections }, user));
  } finally {
    if (progress) clearInterval(progress);
  }
  const elapsedMs = Math.max(1, finishedAt - startedAt);
  const result: LoadResult = {
    requests,
    errors,
    elapsedMs,
    throughput: (requests * 1000) / elapsedMs,
    latencyMs: percentiles(latency),
    ttfbMs: percentiles(ttfb),
    hits,
    nextIndex: next,
  };
  return firstError === undefined ? result : { ...result, firstError };
}
