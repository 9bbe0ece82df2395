/**
 * Bytes the pack allocates per request, by allocation site: V8's sampling heap profiler over a window
 * of load, counting objects the GC already collected. Unlike CPU time, allocated bytes hardly move
 * with the machine's load, so this is the figure to compare before and after a hot-path change
 * (allocation is what the garbage collector later pays for).
 *
 * Usage: node bench/alloc.ts [--path hit|miss] [--seconds 3] [--top 25] [--telemetry off]
 *
 * The gateway runs in this process (the profiler sees only it); the simulated provider, the OTLP sink
 * and the load generator run in their own processes.
 */
import { fork } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runLoad } from './driver.ts';
import { spawnSystem } from './processes.ts';
import { areaOf, shortUrl } from './profile.ts';
import { startPack } from './systems/pack.ts';
import { fixedPrompt, uniquePrompts } from './workload.ts';

const CONNECTIONS = 32;
const SAMPLING_INTERVAL_BYTES = 4096;

interface ProfileNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly ProfileNode[];
}

/** Child mode: drive `origin` for `ms` and print how many requests were answered. */
async function drive(origin: string, path: string, ms: number, firstIndex: number): Promise<void> {
  const { Pool } = await import('undici');
  const pool = new Pool(origin, { connections: CONNECTIONS });
  const body = path === 'hit' ? fixedPrompt('alloc') : uniquePrompts(`alloc-${process.pid}`);
  const result = await runLoad({ origin, pool, connections: CONNECTIONS, durationMs: ms, body, firstIndex });
  await pool.close();
  process.send?.({ requests: result.requests, errors: result.errors });
}

function load(origin: string, path: string, ms: number, firstIndex: number) {
  return new Promise<{ requests: number; errors: number }>((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [
      '--drive',
      origin,
      path,
      String(ms),
      String(firstIndex),
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      path: { type: 'string', default: 'hit' },
      seconds: { type: 'string', default: '3' },
      top: { type: 'string', default: '25' },
      telemetry: { type: 'string', default: 'on' },
    },
  });
  const path = values.path === 'miss' ? 'miss' : 'hit';
  const ms = Number(values.seconds) * 1000;
  const [simulator, sink] = await Promise.all([
    spawnSystem('simulator', { kind: 'simulator', latencyMs: 0 }),
    spawnSystem('otlp-sink', { kind: 'sink' }),
  ]);
  const pack = await startPack({
    kind: 'pack',
    upstream: simulator.url,
    cache: true,
    ...(values.telemetry === 'off' ? {} : { otlpEndpoint: sink.url }),
  });
  try {
    // Warm-up: store the hit, load the tokenizer, let V8 optimise the hot functions.
    await load(pack.url, path, 2000, 0);
    const session = new Session();
    session.connect();
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: SAMPLING_INTERVAL_BYTES,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const { requests, errors } = await load(pack.url, path, ms, 1_000_000);
    const { profile } = await session.post('HeapProfiler.stopSampling');
    session.disconnect();
    const { total, sites, areas } = summarise(profile.head as ProfileNode);
    const kb = (bytes: number) => (bytes / 1024 / requests).toFixed(2);
    const table = (title: string, rows: Map<string, number>, limit: number) => {
      console.log(`\n${title}\nKB/request  share`);
      for (const [name, bytes] of [...rows].sort((a, b) => b[1] - a[1]).slice(0, limit)) {
        console.log(`${kb(bytes).padStart(10)}  ${((100 * bytes) / total).toFixed(1).padStart(4)}%  ${name}`);
      }
    };
    console.log(
      `${path} path, telemetry ${values.telemetry}: ${requests} requests (${errors} errors), ` +
        `${kb(total)} KB allocated per request (sampled every ${SAMPLING_INTERVAL_BYTES} bytes)`,
    );
    table('by area (native allocations charged to their JavaScript caller)', areas, 12);
    table('by allocation site', sites, Number(values.top));
  } finally {
    await pack.close();
    await Promise.all([simulator.stop(), sink.stop()]);
  }
}

if (process.argv[2] === '--drive') {
  const [, , , origin, path, ms, first] = process.argv;
  await drive(origin as string, path as string, Number(ms), Number(first));
  process.exit(0);
} else {
  await main();
  process.exit(0);
}
