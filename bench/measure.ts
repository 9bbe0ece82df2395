import { join } from 'node:path';
import type { Pool } from 'undici';
import { createPool, type LoadResult, runLoad } from './driver.ts';
import type { SystemProcess } from './processes.ts';
import type { Progress } from './progress.ts';
import type { Percentiles, SystemResult } from './types.ts';
import type { BodyFor } from './workload.ts';

/** How long and how often to measure (set by `--quick`, the default, `--full`). */
export interface RunSettings {
  readonly mode: 'quick' | 'default' | 'full';
  /** Load before a system's first window (JIT, sockets, caches). */
  readonly warmupMs: number;
  /** Load before each later window, to get back to steady state after the other systems ran. */
  readonly rewarmMs: number;
  readonly durationMs: number;
  /** Rounds per scenario; systems are measured interleaved, round by round, and medians reported. */
  readonly rounds: number;
  /** Write V8 CPU profiles of the measured windows here (`--cpu-prof`), one per system and round. */
  readonly cpuProfileDir?: string;
  readonly progress: Progress;
}

/** One system under test with the load it gets. */
export interface Target {
  readonly name: string;
  readonly label: string;
  readonly system: SystemProcess;
  readonly body: BodyFor;
  /** Extra request headers (e.g. a peer gateway's upstream routing). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly connections: number;
  /** Report the `Cache-Status` hit rate. */
  readonly caches?: boolean;
  /** Report time to first byte as time to first chunk (streaming workloads). */
  readonly streams?: boolean;
}

interface Round {
  readonly load: LoadResult;
  readonly cpuUs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly heapTotalBytes: number;
}

/** Keeps each target's connection pool and prompt sequence across phases and rounds. */
export class Bench {
  readonly settings: RunSettings;
  /** The scenario being measured (names the profile files). */
  readonly scenario: string;
  readonly #pools = new Map<string, Pool>();
  readonly #nextIndex = new Map<string, number>();
  readonly #rounds = new Map<string, Round[]>();

  constructor(settings: RunSettings, scenario = 'bench') {
    this.settings = settings;
    this.scenario = scenario;
  }

  #pool(target: Target): Pool {
    let pool = this.#pools.get(target.name);
    if (!pool) {
      pool = createPool(target.system.url, target.connections);
      this.#pools.set(target.name, pool);
    }
    return pool;
  }

  /** Run load without measuring (warm-up, cache pre-fill); returns what the driver saw. */
  async drive(target: Target, durationMs: number, maxRequests?: number): Promise<LoadResult> {
    const result = await runLoad({
      origin: target.system.url,
      pool: this.#pool(target),
      connections: target.connections,
      durationMs,
      body: target.body,
      ...(target.headers ? { headers: target.headers } : {}),
      firstIndex: this.#nextIndex.get(target.name) ?? 0,
      ...(maxRequests === undefined ? {} : { maxRequests }),
      onProgress: (done, elapsed) =>
        this.settings.progress.update(
          `${target.name}: ${done.toLocaleString('en-US')} req, ${(elapsed / 1000).toFixed(1)}s`,
        ),
    });
    this.#nextIndex.set(target.name, result.nextIndex);
    return result;
  }

  /** Warm up, then measure one window with the server's CPU and RSS read before and after. */
  async measure(target: Target): Promise<LoadResult> {
    const { progress, warmupMs, rewarmMs, durationMs, cpuProfileDir } = this.settings;
    const round = this.#rounds.get(target.name)?.length ?? 0;
    const warm = round === 0 ? warmupMs : rewarmMs;
    if (warm > 0) await this.drive(target, warm);
    const profileTo =
      cpuProfileDir && join(cpuProfileDir, `${this.scenario}.${target.name}.r${round + 1}.cpuprofile`);
    const before = await target.system.stats(profileTo ? 'start' : undefined);
    const load = await this.drive(target, durationMs);
    const after = await target.system.stats(profileTo ? { stopTo: profileTo } : undefined);
    const cpuUs = after.cpuUserUs + after.cpuSystemUs - before.cpuUserUs - before.cpuSystemUs;
    const list = this.#rounds.get(target.name) ?? [];
    list.push({
      load,
      cpuUs,
      rssBytes: after.rssBytes,
      heapUsedBytes: after.heapUsedBytes,
      heapTotalBytes: after.heapTotalBytes,
    });
    this.#rounds.set(target.name, list);
    const errors = load.errors > 0 ? `, ${load.errors} errors (${load.firstError})` : '';
    progress.log(
      `  ${target.name.padEnd(14)} r${round + 1} ${Math.round(load.throughput).toLocaleString('en-US').padStart(7)} req/s` +
        `  p99 ${load.latencyMs.p99.toFixed(1)} ms  cpu ${(cpuUs / Math.max(1, load.requests)).toFixed(0)} µs/req${errors}`,
    );
    return load;
  }

  /** Measure every target once per round, interleaved (A B C, A B C...) so drift hits all alike. */
  async measureAll(targets: readonly Target[]): Promise<SystemResult[]> {
    for (let round = 0; round < this.settings.rounds; round++) {
      for (const target of targets) await this.measure(target);
    }
    return targets.map((target) => this.result(target));
  }

  /** The target's figures: medians over its rounds (hit rate over all of them). */
  result(target: Target): SystemResult {
    const rounds = this.#rounds.get(target.name) ?? [];
    const loads = rounds.map((r) => r.load);
    const requests = sum(loads.map((l) => l.requests));
    const errors = sum(loads.map((l) => l.errors));
    const base: SystemResult = {
      name: target.name,
      label: target.label,
      requests,
      errors,
      throughput: round1(median(loads.map((l) => l.throughput))),
      latencyMs: medianPercentiles(loads.map((l) => l.latencyMs)),
      cpuPerRequestUs: round1(median(rounds.map((r) => r.cpuUs / Math.max(1, r.load.requests)))),
      cpuCores: round3(median(rounds.map((r) => r.cpuUs / 1000 / r.load.elapsedMs))),
      rssMb: round1(Math.max(...rounds.map((r) => r.rssBytes), 0) / 1024 / 1024),
      idleRssMb: round1(target.system.idleRssBytes / 1024 / 1024),
      heapUsedMb: round1(Math.max(...rounds.map((r) => r.heapUsedBytes), 0) / 1024 / 1024),
      heapTotalMb: round1(Math.max(...rounds.map((r) => r.heapTotalBytes), 0) / 1024 / 1024),
    };
    const ok = requests - errors;
    return {
      ...base,
      ...(target.streams ? { ttfcMs: medianPercentiles(loads.map((l) => l.ttfbMs)) } : {}),
      ...(target.caches ? { hitRate: round3(ok > 0 ? sum(loads.map((l) => l.hits)) / ok : 0) } : {}),
    };
  }

  async close(): Promise<void> {
    await Promise.all([...this.#pools.values()].map((pool) => pool.close()));
    this.#pools.clear();
  }
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function medianPercentiles(list: readonly Percentiles[]): Percentiles {
  return {
    p50: round3(median(list.map((p) => p.p50))),
    p95: round3(median(list.map((p) => p.p95))),
    p99: round3(median(list.map((p) => p.p99))),
    max: round3(Math.max(...list.map((p) => p.max), 0)),
    mean: round3(median(list.map((p) => p.mean))),
  };
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
