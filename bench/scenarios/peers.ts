import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { errorNotes, informational, pick, ratio, type Scenario } from '../scenario.ts';
import {
  ensurePortkey,
  PORTKEY_PACKAGE,
  PORTKEY_VERSION,
  portkeyHeaders,
  startPortkey,
} from '../systems/portkey.ts';
import type { SystemResult } from '../types.ts';
import { uniquePrompts } from '../workload.ts';

/** The same connections as `miss-overhead` and the loaded half of `streaming`. */
const MISS_CONNECTIONS = 32;
const STREAM_CONNECTIONS = 16;

/** The scratch folder Portkey is installed into (git-ignored with the rest of `.bench-results/`). */
export const PEERS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../.bench-results/peers');

/** One request through `origin`, which must answer 200 in the expected format, or the reason why not. */
async function probe(
  origin: string,
  body: string,
  headers: Record<string, string>,
  stream: boolean,
): Promise<string | undefined> {
  try {
    const answer = await request(`${origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    const text = await answer.body.text();
    if (answer.statusCode !== 200) return `HTTP ${answer.statusCode}: ${text.slice(0, 200)}`;
    if (stream ? !text.includes('data: [DONE]') : !text.includes('"choices"'))
      return `unexpected ${stream ? 'stream' : 'JSON'} answer: ${text.slice(0, 200)}`;
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/**
 * (issue 14) The pack beside a peer gateway, Portkey's OSS build (no policies: its OSS build has no
 * response cache, limits or breaker), on the paths both have: a miss (every prompt new, JSON) and a
 * stream (every prompt new, `stream: true`). The bare undici proxy runs too, as the floor. Portkey
 * is installed on demand; when it cannot be installed or started here the scenario says so and skips.
 */
export const peers: Scenario = {
  id: 'peers',
  title: `pack vs Portkey gateway ${PORTKEY_VERSION} (miss and stream)`,
  async run(bench, scope) {
    const skip = (why: string) => ({
      id: this.id,
      title: this.title,
      workload: '',
      systems: [],
      ratios: [],
      notes: [],
      skipped: why,
    });
    let entry: string;
    try {
      entry = await ensurePortkey(PEERS_DIR, (line) => bench.settings.progress.log(line));
    } catch (error) {
      return skip(`cannot install ${PORTKEY_PACKAGE}@${PORTKEY_VERSION}: ${(error as Error).message}`);
    }
    const [simulator, sink] = await Promise.all([
      scope.spawn('simulator', { kind: 'simulator', latencyMs: 0 }),
      scope.spawn('otlp-sink', { kind: 'sink' }),
    ]);
    const upstream = simulator.url;
    const started = scope.track(startPortkey('portkey', entry));
    const [proxy, pack] = await Promise.all([
      scope.spawn('bare-undici', { kind: 'proxy', upstream, client: 'undici' }),
      scope.spawn('pack', { kind: 'pack', upstream, cache: true, otlpEndpoint: sink.url }),
    ]);
    let portkey: Awaited<typeof started>;
    try {
      portkey = await started;
    } catch (error) {
      return skip(`${PORTKEY_PACKAGE}@${PORTKEY_VERSION} did not start: ${(error as Error).message}`);
    }
    const headers = portkeyHeaders(upstream);
    for (const stream of [false, true]) {
      const failed = await probe(portkey.url, uniquePrompts('peer-probe', { stream })(0), headers, stream);
      if (failed) {
        return skip(
          `${PORTKEY_PACKAGE}@${PORTKEY_VERSION} started but a ${stream ? 'stream' : 'JSON'} request failed: ${failed}`,
        );
      }
    }

    const miss = (tag: string) => uniquePrompts(tag);
    const stream = (tag: string) => uniquePrompts(tag, { stream: true });
    const systems = await bench.measureAll([
      {
        name: 'bare-undici-miss',
        label: 'Hono proxy, undici, JSON',
        system: proxy,
        body: miss('peer-b'),
        connections: MISS_CONNECTIONS,
      },
      {
        name: 'portkey-miss',
        label: `Portkey ${PORTKEY_VERSION}, no config (provider by headers), JSON`,
        system: portkey,
        body: miss('peer-k'),
        headers,
        connections: MISS_CONNECTIONS,
      },
      {
        name: 'pack-miss',
        label: 'full pack, every request a miss, JSON',
        system: pack,
        body: miss('peer-p'),
        connections: MISS_CONNECTIONS,
        caches: true,
      },
      {
        name: 'bare-undici-stream',
        label: 'Hono proxy piping bytes, stream',
        system: proxy,
        body: stream('peer-bs'),
        connections: STREAM_CONNECTIONS,
        streams: true,
      },
      {
        name: 'portkey-stream',
        label: `Portkey ${PORTKEY_VERSION}, stream`,
        system: portkey,
        body: stream('peer-ks'),
        headers,
        connections: STREAM_CONNECTIONS,
        streams: true,
      },
      {
        name: 'pack-stream',
        label: 'full pack, stream miss',
        system: pack,
        body: stream('peer-ps'),
        connections: STREAM_CONNECTIONS,
        streams: true,
        caches: true,
      },
    ]);
    return {
      id: this.id,
      title: this.title,
      workload: `provider latency 0 ms, every prompt unique; JSON at ${MISS_CONNECTIONS} connections, stream: true at ${STREAM_CONNECTIONS}`,
      systems,
      ratios: peerRatios(systems),
      notes: [
        'Target (issue 14): on a miss with every policy on, at least 2x the req/s of Portkey running none.',
        `Portkey ${PORTKEY_VERSION} from npm into ${PEERS_DIR}, with @hono/node-server and hono pinned as in its own lockfile (see bench/systems/portkey.ts); its OSS build has no response cache, so only the miss and stream paths are compared.`,
        'Portkey waits 25 ms before passing on the first chunk of a stream (a fixed sleep in its stream transform), so its stream TTFC and req/s carry that wait.',
        ...errorNotes(systems),
      ],
    };
  },
};

/** The scenario's figures from its six systems (exported for the tests). */
export function peerRatios(systems: readonly SystemResult[]) {
  const bm = pick(systems, 'bare-undici-miss');
  const km = pick(systems, 'portkey-miss');
  const pm = pick(systems, 'pack-miss');
  const bs = pick(systems, 'bare-undici-stream');
  const ks = pick(systems, 'portkey-stream');
  const ps = pick(systems, 'pack-stream');
  const ttfc = (s: SystemResult) => s.ttfcMs?.p50 ?? 0;
  return [
    ratio(
      'miss-throughput-vs-portkey',
      'miss: req/s pack / Portkey',
      pm.throughput / km.throughput,
      'higher',
      {
        op: '>=',
        value: 2,
      },
    ),
    ratio(
      'miss-cpu-vs-portkey',
      'miss: CPU/req pack / Portkey',
      pm.cpuPerRequestUs / km.cpuPerRequestUs,
      'lower',
    ),
    informational(
      ratio(
        'miss-portkey-cpu-vs-undici',
        'miss: CPU/req Portkey / bare-undici',
        km.cpuPerRequestUs / bm.cpuPerRequestUs,
        'lower',
      ),
    ),
    ratio(
      'stream-throughput-vs-portkey',
      'stream: req/s pack / Portkey',
      ps.throughput / ks.throughput,
      'higher',
    ),
    ratio(
      'stream-cpu-vs-portkey',
      'stream: CPU/req pack / Portkey',
      ps.cpuPerRequestUs / ks.cpuPerRequestUs,
      'lower',
    ),
    ratio('stream-ttfc-vs-portkey', 'stream: TTFC p50 pack / Portkey', ttfc(ps) / ttfc(ks), 'lower'),
    informational(
      ratio(
        'stream-portkey-cpu-vs-undici',
        'stream: CPU/req Portkey / bare-undici',
        ks.cpuPerRequestUs / bs.cpuPerRequestUs,
        'lower',
      ),
    ),
  ];
}
