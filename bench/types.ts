/** Shapes of a benchmark run's results, as written to `.bench-results/latest.json`. */

/** Latency percentiles in milliseconds. */
export interface Percentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** What one system under test did during one measured window (medians over rounds). */
export interface SystemResult {
  /** Short id, e.g. `bare-fetch`, `pack`. */
  readonly name: string;
  /** One-line description of what ran. */
  readonly label: string;
  readonly requests: number;
  /** Transport failures (connection reset, timeouts) plus non-2xx answers. */
  readonly errors: number;
  /** Completed requests per second. */
  readonly throughput: number;
  readonly latencyMs: Percentiles;
  /** Time to the first body byte of a streamed answer, when the workload streams. */
  readonly ttfcMs?: Percentiles;
  /** CPU time (user + system) of the server process per completed request, in microseconds. */
  readonly cpuPerRequestUs: number;
  /** Server process CPU use during the window, in cores (1.0 = one core busy). */
  readonly cpuCores: number;
  /** Server process resident set size at the end of the window, in MB. */
  readonly rssMb: number;
  /** The same process's RSS right after start, before any load, in MB. */
  readonly idleRssMb: number;
  /** Live V8 heap (after a full GC) at the end of the window, in MB; the rest of RSS is code, buffers, sockets and heap not yet returned. */
  readonly heapUsedMb: number;
  /** V8 heap reserved at the end of the window (live + free pages V8 keeps), in MB. */
  readonly heapTotalMb: number;
  /** Share of 2xx answers whose `Cache-Status` says `hit`, when the system caches. */
  readonly hitRate?: number;
}

/** A figure that matters: a ratio of two systems measured in the same run. */
export interface Ratio {
  readonly id: string;
  readonly label: string;
  readonly value: number;
  /** `ratio` (x, the default), `share` (0..1), or an absolute `ms` / `MB` / `KB` (allocated per request) figure. */
  readonly unit?: 'ratio' | 'share' | 'ms' | 'MB' | 'KB';
  /** Which direction is an improvement (used by `bench/compare.ts`). */
  readonly better: 'higher' | 'lower';
  /** The target, when it sets one: the value must be `<=` or `>=` this. */
  readonly target?: { readonly op: '<=' | '>='; readonly value: number };
  readonly pass?: boolean;
  /**
   * False for figures that describe the baselines or the workload rather than the pack (e.g. undici vs
   * fetch): `bench/compare.ts` shows their change but never calls it a regression. @default true
   */
  readonly gate?: boolean;
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  /** The workload in words: concurrency, provider latency, prompt mix. */
  readonly workload: string;
  readonly systems: readonly SystemResult[];
  readonly ratios: readonly Ratio[];
  readonly notes: readonly string[];
  /** Set when the scenario could not run (a missing piece); the run still completes. */
  readonly skipped?: string;
}

export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly platform: string;
  readonly totalMemoryGb: number;
  readonly loadAverage: readonly number[];
}

export interface BenchRun {
  readonly schema: 1;
  readonly startedAt: string;
  readonly durationSec: number;
  readonly mode: 'quick' | 'default' | 'full';
  readonly command: string;
  readonly gitCommit?: string;
  readonly machine: MachineInfo;
  readonly scenarios: readonly ScenarioResult[];
  /** Extra micro-benchmarks (e.g. the rate limiter's ns/op), keyed by name. */
  readonly micro?: Readonly<Record<string, unknown>>;
}
