/**
 * What the benchmark harness and a system-under-test process say to each other over the IPC channel
 * (`child_process.fork`-style, JSON messages).
 */

/** How to start one system: its kind plus the kind's own settings. */
export type SystemSpec =
  | { readonly kind: 'simulator'; readonly latencyMs: number; readonly chunkDelayMs?: number }
  | { readonly kind: 'sink' }
  | { readonly kind: 'fixed'; readonly body: string }
  | { readonly kind: 'proxy'; readonly upstream: string; readonly client: 'undici' | 'fetch' }
  /** A plain Hono app with only `aiContext()` + `aiCache()` in front of a fetch handler. */
  | { readonly kind: 'cache-middleware'; readonly upstream: string; readonly otlpEndpoint: string }
  | {
      readonly kind: 'pack';
      readonly upstream: string;
      /** Cache on (memory LRU, plus Redis when `redisUrl` is set) or off. */
      readonly cache: boolean;
      readonly redisUrl?: string;
      readonly maxMemoryItems?: number;
      /** OTLP/HTTP endpoint for traces and metrics; no SDK at all when absent (telemetry off). */
      readonly otlpEndpoint?: string;
    };

/**
 * `stats` reads CPU and memory; with `profile` it also starts the V8 CPU profiler (after reading), or
 * stops it (after reading, so writing the profile is not billed to the window) and saves it to a file.
 */
export type ProfileAction = 'start' | { readonly stopTo: string };

export type ToChild =
  | { readonly type: 'stats'; readonly id: number; readonly profile?: ProfileAction }
  | { readonly type: 'stop' };

export interface ChildStats {
  /** `process.cpuUsage()` in microseconds. */
  readonly cpuUserUs: number;
  readonly cpuSystemUs: number;
  readonly rssBytes: number;
  /** V8 heap in use after a full GC: the live data. */
  readonly heapUsedBytes: number;
  /** V8 heap reserved (live + free pages kept), and memory outside it (Buffers, native). */
  readonly heapTotalBytes: number;
  readonly externalBytes: number;
}

export type FromChild =
  | { readonly type: 'ready'; readonly url: string }
  | ({ readonly type: 'stats'; readonly id: number } & ChildStats)
  | { readonly type: 'failed'; readonly message: string };
