/**
 * Bytes a system allocates per request, by allocation site: V8's sampling heap profiler over a window
 * of load, counting objects the GC already collected. Unlike CPU time, allocated bytes hardly move
 * with the machine's load, so this is the figure to compare before and after a hot-path change
 * (allocation is what the garbage collector later pays for).
 *
 * Usage: node bench/alloc.ts [--path hit|miss] [--system pack|bare] [--seconds 3] [--warmup 2]
 *                            [--top 25] [--telemetry off] [--json]
 *
 * `--system pack` (the default) is the gateway; `--system bare` is its baseline on that path, the
 * bare Hono + undici proxy for a miss and the bare Hono handler returning the same JSON for a hit
 * (`bench/systems/proxy.ts`, `fixed.ts`). `npm run bench -- --scenario alloc` runs all four and
 * reports pack / bare. The system runs in this process (the profiler sees only it); the simulated
 * provider, the OTLP sink and the load generator run in their own processes. `--json` prints one
 * JSON line (an `AllocResult`) instead of the tables.
 */
import { fork } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import {
  type AllocArgs,
  type AllocResult,
  bareLabel,
  MAX_EXTRA_MS,
  parseAllocArgs,
  WARMUP_REQUESTS,
  WINDOW_REQUESTS,
} from './alloc-args.ts';
import { runLoad } from './driver.ts';
import { spawnSystem } from './processes.ts';
import { areaOf, shortUrl } from './profile.ts';
import { startFixed } from './systems/fixed.ts';
import type { Running } from './systems/listen.ts';
import { startPack } from './systems/pack.ts';
import { startProxy } from './systems/proxy.ts';
import { fixedPrompt, uniquePrompts } from './workload.ts';

const CONNECTIONS = 32;
const SAMPLING_INTERVAL_BYTES = 4096;

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly ProfileNode[];
}

/** Child mode: drive `origin` for `ms` (and until `minRequests`), print how many requests were answered. */
async function drive(origin: string, path: string, ms: number, firstIndex: number, minRequests: number) {
  const { Pool } = await import('undici');
  const pool = new Pool(origin, { connections: CONNECTIONS });
  const body = path === 'hit' ? fixedPrompt('alloc') : uniquePrompts(`alloc-${process.pid}`);
  const deadline = performance.now() + ms + MAX_EXTRA_MS;
  let requests = 0;
  let errors = 0;
  let next = firstIndex;
  // The first window is the asked time; extra ones (a busy machine) are 1 s each.
  let windowMs = ms;
  do {
    const result = await runLoad({
      origin,
      pool,
      connections: CONNECTIONS,
      durationMs: windowMs,
      body,
      firstIndex: next,
    });
    requests += result.requests;
    errors += result.errors;
    next = result.nextIndex;
    windowMs = Math.min(ms, 1000);
  } while (requests < minRequests && errors === 0 && performance.now() < deadline);
  await pool.close();
  process.send?.({ requests, errors });
}

function load(origin: string, path: string, ms: number, firstIndex: number, minRequests: number) {
  return new Promise<{ requests: number; errors: number }>((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [
      '--drive',
      origin,
      path,
      String(ms),
      String(firstIndex),
      String(minRequests),
    ]);
    child.once('message', (message) => resolve(message as { requests: number; errors: number }));
    child.once('exit', (code) =>
      code === 0 ? undefined : reject(new Error(`load generator exited ${code}`)),
    );
  });
}

function site(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'}  ${shortUrl(url)}${url ? `:${lineNumber + 1}` : ''}`;
}

/**
 * Bytes by allocation site, and by area with native allocations (`sort`, `WeakSet`, `Map`...) charged
 * to the JavaScript frame that called them, which is where the fix would go.
 */
function summarise(root: ProfileNode) {
  const sites = new Map<string, number>();
  const areas = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode, caller: string | undefined) => {
    const own = node.callFrame.url || undefined;
    const charged = own ?? caller;
    if (node.selfSize > 0) {
      total += node.selfSize;
      const name =
        own || caller === undefined ? site(node) : `${site(node)} < ${caller.replace(/^.*\//, '')}`;
      sites.set(name, (sites.get(name) ?? 0) + node.selfSize);
      const where = areaOf(charged ?? '', node.callFrame.functionName);
      areas.set(where, (areas.get(where) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, charged);
  };
  walk(root, undefined);
  return { total, sites, areas };
}

/** The answer a stored hit returns, for the bare handler to return too (the provider's, as the pack stores it). */
async function answerFor(upstream: string, body: string): Promise<string> {
  const { request } = await import('undici');
  const answer = await request(`${upstream}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-provider-key' },
    body,
  });
  const text = await answer.body.text();
  if (answer.statusCode !== 200) throw new Error(`simulator answered HTTP ${answer.statusCode}: ${text}`);
  return text;
}

/** The system under test for `args`, in this process. */
async function startSystem(args: AllocArgs, upstream: string, otlp: string): Promise<Running> {
  if (args.system === 'pack') {
    return startPack({
      kind: 'pack',
      upstream,
      cache: true,
      ...(args.telemetry ? { otlpEndpoint: otlp } : {}),
    });
  }
  if (args.path === 'miss') return startProxy(upstream, 'undici');
  return startFixed(await answerFor(upstream, fixedPrompt('alloc')(0)));
}

async function main(args: AllocArgs): Promise<void> {
  const ms = args.seconds * 1000;
  const { path } = args;
  const [simulator, sink] = await Promise.all([
    spawnSystem('simulator', { kind: 'simulator', latencyMs: 0 }),
    spawnSystem('otlp-sink', { kind: 'sink' }),
  ]);
  const server = await startSystem(args, simulator.url, sink.url);
  try {
    // Warm-up: store the hit, load the tokenizer, let V8 optimise the hot functions.
    await load(server.url, path, Math.max(200, args.warmupSeconds * 1000), 0, WARMUP_REQUESTS);
    const session = new Session();
    session.connect();
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_INTERVAL_BYTES,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const { requests, errors } = await load(server.url, path, ms, 1_000_000, WINDOW_REQUESTS);
    const { profile } = await session.post('HeapProfiler.stopSampling');
    session.disconnect();
    const { total, sites, areas } = summarise(profile.head as ProfileNode);
    const perRequest = (bytes: number) => bytes / Math.max(1, requests);
    const largest = (rows: Map<string, number>, limit: number) =>
      [...rows].sort((a, b) => b[1] - a[1]).slice(0, limit);
    if (args.json) {
      const result: AllocResult = {
        path,
        system: args.system,
        telemetry: args.telemetry,
        requests,
        errors,
        bytesPerRequest: Math.round(perRequest(total)),
        areas: largest(areas, 8).map(([area, bytes]) => ({
          area,
          bytesPerRequest: Math.round(perRequest(bytes)),
        })),
      };
      process.stdout.write(`${JSON.stringify(result)}\n`);
      return;
    }
    const kb = (bytes: number) => (perRequest(bytes) / 1024).toFixed(2);
    const table = (title: string, rows: Map<string, number>, limit: number) => {
      console.log(`\n${title}\nKB/request  share`);
      for (const [name, bytes] of largest(rows, limit)) {
        console.log(`${kb(bytes).padStart(10)}  ${((100 * bytes) / total).toFixed(1).padStart(4)}%  ${name}`);
      }
    };
    const what =
      args.system === 'pack' ? `pack, telemetry ${args.telemetry ? 'on' : 'off'}` : bareLabel(path);
    console.log(
      `${path} path, ${what}: ${requests} requests (${errors} errors), ` +
        `${kb(total)} KB allocated per request (sampled every ${SAMPLING_INTERVAL_BYTES} bytes)`,
    );
    table('by area (native allocations charged to their JavaScript caller)', areas, 12);
    table('by allocation site', sites, args.top);
  } finally {
    await server.close();
    await Promise.all([simulator.stop(), sink.stop()]);
  }
}

if (import.meta.main && process.argv[2] === '--drive') {
  const [, , , origin, path, ms, first, min] = process.argv;
  await drive(origin as string, path as string, Number(ms), Number(first), Number(min ?? 0));
  process.exit(0);
} else if (import.meta.main) {
  try {
    await main(parseAllocArgs(process.argv.slice(2)));
    process.exit(0);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  }
}
