import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type AllocArgs, type AllocResult, WARMUP_REQUESTS, WINDOW_REQUESTS } from '../alloc-args.ts';
import { informational, ratio, type Scenario } from '../scenario.ts';
import type { Ratio } from '../types.ts';

const ALLOC_ENTRY = fileURLToPath(new URL('../alloc.ts', import.meta.url));
const RUN_TIMEOUT_MS = 180_000;

/** The four measurements: each path through the pack and through its bare baseline. */
export const ALLOC_RUNS: readonly Pick<AllocArgs, 'path' | 'system'>[] = [
  { path: 'miss', system: 'pack' },
  { path: 'miss', system: 'bare' },
  { path: 'hit', system: 'pack' },
  { path: 'hit', system: 'bare' },
];

/** Run `node bench/alloc.ts ... --json` in its own process and read its one JSON line. */
function runAlloc(args: Pick<AllocArgs, 'path' | 'system'>, seconds: number, warmup: number) {
  const argv = [ALLOC_ENTRY, '--path', args.path, '--system', args.system];
  argv.push('--seconds', String(seconds), '--warmup', String(warmup), '--json');
  return new Promise<AllocResult>((resolve, reject) => {
    execFile(process.execPath, argv, { timeout: RUN_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error)
        return reject(new Error(`bench/alloc.ts ${argv.slice(1).join(' ')}: ${stderr || error.message}`));
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as AllocResult);
      } catch {
        reject(new Error(`bench/alloc.ts printed no result: ${stdout.slice(-300)}`));
      }
    });
  });
}

const kb = (bytes: number) => bytes / 1024;

/** Figures from the four runs: KB per request of each, and pack / bare per path (target <= 2). */
export function allocRatios(results: readonly AllocResult[]): Ratio[] {
  const find = (path: AllocResult['path'], system: AllocResult['system']) => {
    const found = results.find((r) => r.path === path && r.system === system);
    if (!found) throw new Error(`no allocation result for ${system} on the ${path} path`);
    return found;
  };
  return (['miss', 'hit'] as const).flatMap((path) => {
    const pack = find(path, 'pack');
    const bare = find(path, 'bare');
    const baseline = path === 'miss' ? 'bare-undici proxy' : 'bare-fixed handler';
    return [
      ratio(
        `${path}-vs-bare`,
        `${path}: bytes allocated/req pack / ${baseline}`,
        pack.bytesPerRequest / bare.bytesPerRequest,
        'lower',
        {
          op: '<=',
          value: 2,
        },
      ),
      ratio(
        `${path}-pack-kb`,
        `${path}: KB allocated/req, pack`,
        kb(pack.bytesPerRequest),
        'lower',
        undefined,
        'KB',
      ),
      informational(
        ratio(
          `${path}-bare-kb`,
          `${path}: KB allocated/req, ${baseline}`,
          kb(bare.bytesPerRequest),
          'lower',
          undefined,
          'KB',
        ),
      ),
    ];
  });
}

/**
 * (issue 14) Bytes allocated per request, pack against its bare baseline on each path, with V8's
 * sampling heap profiler (`bench/alloc.ts`, one process per measurement). Unlike CPU time this
 * hardly moves with the machine's load, so it is the steadiest figure of the run.
 */
export const allocation: Scenario = {
  id: 'alloc',
  title: 'bytes allocated per request vs bare baselines',
  async run(bench) {
    const { durationMs, rounds, warmupMs, progress } = bench.settings;
    // The same measured time as the other scenarios give a system (rounds x window), in one window:
    // allocation does not drift with the load, so there is nothing to interleave against.
    const seconds = (durationMs * rounds) / 1000;
    const warmup = Math.max(1, (2 * warmupMs) / 1000);
    const results: AllocResult[] = [];
    for (const run of ALLOC_RUNS) {
      progress.update(`alloc: ${run.system} on the ${run.path} path`);
      const result = await runAlloc(run, seconds, warmup);
      if (result.errors > 0)
        throw new Error(`${run.system} on the ${run.path} path: ${result.errors} requests failed`);
      progress.log(
        `  ${`${run.system}-${run.path}`.padEnd(14)} ${kb(result.bytesPerRequest).toFixed(1).padStart(7)} KB/req  (${result.requests.toLocaleString('en-US')} requests)`,
      );
      results.push(result);
    }
    const top = (path: AllocResult['path']) => {
      const pack = results.find((r) => r.path === path && r.system === 'pack');
      const areas = (pack?.areas ?? []).slice(0, 4);
      return `pack ${path}, largest areas (KB/req): ${areas.map((a) => `${a.area} ${kb(a.bytesPerRequest).toFixed(1)}`).join(', ')}`;
    };
    return {
      id: this.id,
      title: this.title,
      workload: `32 connections, provider latency 0 ms; miss = every prompt unique, hit = one stored prompt; ${seconds} s (and at least ${WINDOW_REQUESTS} requests) sampled per system after ${warmup} s (and at least ${WARMUP_REQUESTS} requests) of warm-up, the system alone in the profiled process`,
      systems: [],
      ratios: allocRatios(results),
      notes: [
        'Target (issue 14): at most 2x the bytes the bare baseline allocates per request, on both paths.',
        top('miss'),
        top('hit'),
        'Where the bytes go, by site: node bench/alloc.ts --path miss|hit [--system bare].',
      ],
    };
  },
};
