import { request } from 'undici';
import { errorNotes, pick, ratio, type Scenario } from '../scenario.ts';
import { fixedPrompt } from '../workload.ts';

const CONNECTIONS = 32;

/** POST one chat request and return the answer's body and `Cache-Status`. */
export async function askOnce(origin: string, body: string): Promise<{ text: string; cacheStatus: string }> {
  const answer = await request(`${origin}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer bench-client-key' },
    body,
  });
  const text = await answer.body.text();
  if (answer.statusCode !== 200) throw new Error(`HTTP ${answer.statusCode}: ${text.slice(0, 200)}`);
  return { text, cacheStatus: String(answer.headers['cache-status'] ?? '') };
}

/** Ask once (a miss, stored) and again, which must be a hit; returns the hit. */
async function storeAndHit(origin: string, body: string): Promise<{ text: string; cacheStatus: string }> {
  await askOnce(origin, body);
  const hit = await askOnce(origin, body);
  if (!/;\s*hit\b/.test(hit.cacheStatus)) {
    throw new Error(
      `the second identical request was not a hit (Cache-Status: ${hit.cacheStatus || 'none'})`,
    );
  }
  return hit;
}

/**
 * (3) The cache-hit path against the fastest thing a Hono app can do: a handler that returns the
 * same JSON. Both parse the request and serialise the answer; the difference is the pack's lookup,
 * key derivation, limits and telemetry. A third system is a plain Hono app with only the cache
 * middleware (`aiContext()` + `aiCache()`), for teams that add those lines to their own server.
 */
export const hitPath: Scenario = {
  id: 'hit-path',
  title: 'cache-hit path vs bare fixed-response handler',
  async run(bench, scope) {
    const [simulator, sink] = await Promise.all([
      scope.spawn('simulator', { kind: 'simulator', latencyMs: 0 }),
      scope.spawn('otlp-sink', { kind: 'sink' }),
    ]);
    const pack = await scope.spawn('pack', {
      kind: 'pack',
      upstream: simulator.url,
      cache: true,
      otlpEndpoint: sink.url,
    });
    const middleware = await scope.spawn('cache-mw', {
      kind: 'cache-middleware',
      upstream: simulator.url,
      otlpEndpoint: sink.url,
    });
    const body = fixedPrompt('hit');
    const hit = await storeAndHit(pack.url, body(0));
    await storeAndHit(middleware.url, body(0));
    const fixed = await scope.spawn('bare-fixed', { kind: 'fixed', body: hit.text });
    const systems = await bench.measureAll([
      {
        name: 'bare-fixed',
        label: 'Hono handler returning the same JSON',
        system: fixed,
        body,
        connections: CONNECTIONS,
      },
      {
        name: 'pack-hit',
        label: 'full pack, every request a hit',
        system: pack,
        body,
        connections: CONNECTIONS,
        caches: true,
      },
      {
        name: 'cache-mw-hit',
        label: 'Hono app + aiContext() + aiCache(), every request a hit',
        system: middleware,
        body,
        connections: CONNECTIONS,
        caches: true,
      },
    ]);
    const f = pick(systems, 'bare-fixed');
    const p = pick(systems, 'pack-hit');
    const m = pick(systems, 'cache-mw-hit');
    return {
      id: this.id,
      title: this.title,
      workload: `${CONNECTIONS} connections, one stored prompt asked again and again (100% hits)`,
      systems,
      ratios: [
        ratio('throughput', 'throughput pack-hit / bare-fixed', p.throughput / f.throughput, 'higher', {
          op: '>=',
          value: 0.5,
        }),
        ratio('cpu', 'CPU/req pack-hit / bare-fixed', p.cpuPerRequestUs / f.cpuPerRequestUs, 'lower'),
        ratio('p99', 'p99 latency pack-hit / bare-fixed', p.latencyMs.p99 / f.latencyMs.p99, 'lower'),
        ratio(
          'mw-throughput',
          'throughput cache-mw-hit / bare-fixed (cache middleware only, no gateway)',
          m.throughput / f.throughput,
          'higher',
        ),
        ratio('mw-cpu', 'CPU/req cache-mw-hit / bare-fixed', m.cpuPerRequestUs / f.cpuPerRequestUs, 'lower'),
      ],
      notes: [
        'Target (issue 8, kept by issue 14): cache hits at least 0.5x the bare fixed-response throughput.',
        'The load generator shares the two cores with the server, so the throughput ratio understates the server-side gap; CPU/req is the cleaner figure.',
        ...errorNotes(systems),
      ],
    };
  },
};
