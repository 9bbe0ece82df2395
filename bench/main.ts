/**
 * `npm run bench` / `alchemist-perf bench`: starts the simulated provider and every system under test
 * in its own process, drives them with a closed-loop undici load generator, and reports throughput,
 * latency percentiles, server CPU per request, RSS and hit rate — each comparison as a ratio of two
 * systems measured in the same run, because this machine is shared and noisy.
 *
 * Writes `.bench-results/latest.json` (see `bench/types.ts`) and `latest.md`; `bench/compare.ts` diffs two
 * JSON files for CI.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchArgs, parseArgs, USAGE } from './args.ts';
import { Bench, type RunSettings } from './measure.ts';
import { Progress } from './progress.ts';
import { formatMarkdown, formatRun } from './report.ts';
import { Scope } from './scenario.ts';
import { OPT_IN_SCENARIOS, SCENARIOS, selectScenarios } from './scenarios/index.ts';
import type { BenchRun, MachineInfo, ScenarioResult } from './types.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Short windows, several interleaved rounds: on a shared machine the load changes within seconds,
 * so A B A B A B with medians beats one long A then one long B.
 */
const TIMINGS: Record<
  BenchArgs['mode'],
  Pick<RunSettings, 'warmupMs' | 'rewarmMs' | 'durationMs' | 'rounds'>
> = {
  quick: { warmupMs: 300, rewarmMs: 0, durationMs: 1_000, rounds: 1 },
  default: { warmupMs: 700, rewarmMs: 200, durationMs: 1_000, rounds: 3 },
  full: { warmupMs: 3_000, rewarmMs: 500, durationMs: 4_000, rounds: 5 },
};

function machine(): MachineInfo {
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    totalMemoryGb: Math.round(totalmem() / 1024 ** 3),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/** The rate limiter's own micro-benchmark (`bench/ratelimit.ts`, by the rate-limit module), when present. */
async function micro(progress: Progress): Promise<Record<string, unknown> | undefined> {
  const file = resolve(ROOT, 'bench/ratelimit.ts');
  if (!existsSync(file)) return undefined;
  progress.log('micro-benchmark: rate limiter (bench/ratelimit.ts)');
  try {
    const module = (await import(file)) as { benchRateLimit?: () => unknown };
    if (typeof module.benchRateLimit !== 'function')
      return { ratelimit: 'bench/ratelimit.ts exports no benchRateLimit()' };
    return { ratelimit: await module.benchRateLimit() };
  } catch (error) {
    return { ratelimit: `failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/**
 * A ratio over a system that failed requests measures the failure, not the system: its targets count
 * as missed and the scenario says why (the run then exits non-zero).
 */
function invalidateOnErrors(result: ScenarioResult): ScenarioResult {
  if (!result.systems.some((s) => s.errors > 0)) return result;
  return {
    ...result,
    ratios: result.ratios.map((r) => (r.target ? { ...r, pass: false } : r)),
    notes: [...result.notes, 'Figures are unreliable: a system failed requests (targets marked missed).'],
  };
}

/** Run the benchmark; resolves to the process exit code (non-zero when a scenario failed). */
export async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.list) {
    for (const s of SCENARIOS) process.stdout.write(`${s.id.padEnd(22)} ${s.title}\n`);
    if (args.all) {
      for (const s of OPT_IN_SCENARIOS) process.stdout.write(`${s.id.padEnd(22)} ${s.title} (opt-in)\n`);
    }
    return 0;
  }
  const selected = selectScenarios(args.scenarios, args.all);
  const progress = new Progress(process.stderr, args.quiet);
  const cpuProfileDir = args.cpuProfileDir ? resolve(args.cpuProfileDir) : undefined;
  if (cpuProfileDir) mkdirSync(cpuProfileDir, { recursive: true });
  const settings: RunSettings = {
    mode: args.mode,
    ...TIMINGS[args.mode],
    progress,
    ...(cpuProfileDir ? { cpuProfileDir } : {}),
  };

  const startedAt = new Date();
  const began = performance.now();
  const results: ScenarioResult[] = [];
  let failed = 0;
  for (const [index, scenario] of selected.entries()) {
    progress.scenario(index + 1, selected.length, scenario.title);
    const scope = new Scope();
    const bench = new Bench(settings, scenario.id);
    try {
      const result = invalidateOnErrors(await scenario.run(bench, scope));
      if (result.skipped) progress.log(`  SKIPPED: ${result.skipped}`);
      if (result.systems.some((s) => s.errors > 0)) {
        failed++;
        progress.log(`  FAILED: ${result.notes.filter((n) => n.includes('failed')).join('; ')}`);
      }
      results.push(result);
    } catch (error) {
      failed++;
      const message = error instanceof Error ? error.message : String(error);
      progress.log(`  FAILED: ${message}`);
      results.push({
        id: scenario.id,
        title: scenario.title,
        workload: '',
        systems: [],
        ratios: [],
        notes: [],
        skipped: message,
      });
    } finally {
      await bench.close();
      await scope.close();
    }
  }
  const microResults = args.noMicro || args.mode === 'quick' ? undefined : await micro(progress);

  const run: BenchRun = {
    schema: 1,
    startedAt: startedAt.toISOString(),
    durationSec: Math.round((performance.now() - began) / 1000),
    mode: args.mode,
    command: `npm run bench${argv.length ? ` -- ${argv.join(' ')}` : ''}`,
    ...(gitCommit() ? { gitCommit: gitCommit() as string } : {}),
    machine: machine(),
    scenarios: results,
    ...(microResults ? { micro: microResults } : {}),
  };
  const out = resolve(args.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(run, null, 2)}\n`);
  writeFileSync(out.replace(/\.json$/, '') + '.md', `${formatMarkdown(run)}\n`);
  process.stdout.write(`\n${formatRun(run)}\nJSON: ${out}\n`);
  if (cpuProfileDir)
    process.stdout.write(`CPU profiles: ${cpuProfileDir} (summarise: node bench/profile.ts <file>)\n`);
  return failed > 0 ? 1 : 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(2);
    },
  );
}
