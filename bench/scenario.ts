import type { Bench } from './measure.ts';
import { type SpawnOptions, type SystemProcess, spawnSystem } from './processes.ts';
import type { SystemSpec } from './protocol.ts';
import type { Ratio, ScenarioResult, SystemResult } from './types.ts';

/** One comparison of the list: starts its processes, measures, and derives its ratios. */
export interface Scenario {
  /** Name for `--scenario`. */
  readonly id: string;
  readonly title: string;
  run(bench: Bench, scope: Scope): Promise<ScenarioResult>;
}

/** Processes a scenario started; all stopped when it ends, whatever happened. */
export class Scope {
  readonly #spawned: Promise<SystemProcess>[] = [];
  readonly #cleanups: (() => Promise<void>)[] = [];
  readonly #options: SpawnOptions;

  constructor(options: SpawnOptions = {}) {
    this.#options = options;
  }

  /** Start a system; independent systems can start at once (`Promise.all`), close() still finds them. */
  spawn(name: string, spec: SystemSpec): Promise<SystemProcess> {
    const system = spawnSystem(name, spec, this.#options);
    this.#spawned.push(system);
    return system;
  }

  /** Track a process started another way (e.g. a peer gateway), so close() stops it too. */
  track(system: Promise<SystemProcess>): Promise<SystemProcess> {
    this.#spawned.push(system);
    return system;
  }

  /** Register another cleanup (e.g. a redis-server). */
  defer(cleanup: () => Promise<void>): void {
    this.#cleanups.push(cleanup);
  }

  async close(): Promise<void> {
    const started = await Promise.allSettled(this.#spawned);
    await Promise.allSettled(
      started.flatMap((result) => (result.status === 'fulfilled' ? [result.value.stop()] : [])),
    );
    await Promise.allSettled(this.#cleanups.map((cleanup) => cleanup()));
  }
}

/** A figure shown but never gated by `bench/compare.ts` (it describes a baseline, not the pack). */
export function informational(r: Ratio): Ratio {
  return { ...r, gate: false };
}

/** A ratio with its target check, rounded for the report. */
export function ratio(
  id: string,
  label: string,
  value: number,
  better: Ratio['better'],
  target?: Ratio['target'],
  unit?: Ratio['unit'],
): Ratio {
  const rounded = Number.isFinite(value) ? Math.round(value * 1000) / 1000 : 0;
  const base: Ratio =
    unit && unit !== 'ratio'
      ? { id, label, value: rounded, unit, better }
      : { id, label, value: rounded, better };
  if (!target) return base;
  const pass = target.op === '<=' ? rounded <= target.value : rounded >= target.value;
  return { ...base, target, pass };
}

/** The result for a system by name (scenarios look their own systems up). */
export function pick(systems: readonly SystemResult[], name: string): SystemResult {
  const found = systems.find((system) => system.name === name);
  if (!found) throw new Error(`no result for ${name}`);
  return found;
}

/** Notes every scenario adds when a system saw errors: ratios over failing systems mean little. */
export function errorNotes(systems: readonly SystemResult[]): string[] {
  return systems
    .filter((system) => system.errors > 0)
    .map((system) => `${system.name}: ${system.errors} of ${system.requests} requests failed`);
}
