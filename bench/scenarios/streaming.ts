import { errorNotes, informational, pick, ratio, type Scenario } from '../scenario.ts';
import type { SystemResult } from '../types.ts';
import { uniquePrompts } from '../workload.ts';

const LOADED = 16;
const LATENCY_MS = 20;
const CHUNK_DELAY_MS = 2;

/**
 * (7) Time to first chunk of a streamed answer (`stream: true`, a miss each time): straight to the
 * provider, through the plain proxy, and through the pack, which parses and re-emits every SSE event
 * (to record it for the cache and read usage) rather than piping bytes. Once with one client at a
 * time (the overhead itself), once with 16 streams at once (the overhead under load, where every
 * stream's per-chunk work delays the others' first chunks).
 */
export const streaming: Scenario = {
  id: 'streaming',
  title: 'streaming time-to-first-chunk overhead',
  async run(bench, scope) {
    const [simulator, sink] = await Promise.all([
      scope.spawn('direct', { kind: 'simulator', latencyMs: LATENCY_MS, chunkDelayMs: CHUNK_DELAY_MS }),
      scope.spawn('otlp-sink', { kind: 'sink' }),
    ]);
    const upstream = simulator.url;
    const [proxy, pack] = await Promise.all([
      scope.spawn('bare-undici', { kind: 'proxy', upstream, client: 'undici' }),
      scope.spawn('pack', { kind: 'pack', upstream, cache: true, otlpEndpoint: sink.url }),
    ]);
    const stream = (tag: string) => uniquePrompts(tag, { stream: true });
    const systems = await bench.measureAll([
      {
        name: 'direct-1',
        label: 'the provider itself, 1 client',
        system: simulator,
        body: stream('s-d1'),
        connections: 1,
        streams: true,
      },
      {
        name: 'bare-undici-1',
        label: 'Hono proxy piping bytes, 1 client',
        system: proxy,
        body: stream('s-b1'),
        connections: 1,
        streams: true,
      },
      {
        name: 'pack-1',
        label: 'full pack, stream miss, 1 client',
        system: pack,
        body: stream('s-p1'),
        connections: 1,
        streams: true,
        caches: true,
      },
      {
        name: `bare-undici-${LOADED}`,
        label: `Hono proxy piping bytes, ${LOADED} clients`,
        system: proxy,
        body: stream('s-b16'),
        connections: LOADED,
        streams: true,
      },
      {
        name: `pack-${LOADED}`,
        label: `full pack, stream miss, ${LOADED} clients`,
        system: pack,
        body: stream('s-p16'),
        connections: LOADED,
        streams: true,
        caches: true,
      },
    ]);
    const p50 = (s: SystemResult) => s.ttfcMs?.p50 ?? 0;
    const d1 = pick(systems, 'direct-1');
    const b1 = pick(systems, 'bare-undici-1');
    const p1 = pick(systems, 'pack-1');
    const bn = pick(systems, `bare-undici-${LOADED}`);
    const pn = pick(systems, `pack-${LOADED}`);
    return {
      id: this.id,
      title: this.title,
      workload: `stream: true, provider first chunk after ${LATENCY_MS} ms then one every ${CHUNK_DELAY_MS} ms, every prompt unique; 1 and ${LOADED} clients`,
      systems,
      ratios: [
        ratio(
          'ttfc-overhead-ms',
          'TTFC p50 added by the pack over the provider, 1 client (ms)',
          p50(p1) - p50(d1),
          'lower',
          undefined,
          'ms',
        ),
        informational(
          ratio(
            'ttfc-proxy-overhead-ms',
            'TTFC p50 added by the bare proxy over the provider, 1 client (ms)',
            p50(b1) - p50(d1),
            'lower',
            undefined,
            'ms',
          ),
        ),
        ratio(
          'ttfc-added-ms',
          'TTFC p50 added by the pack over the bare proxy, 1 client (ms)',
          p50(p1) - p50(b1),
          'lower',
          { op: '<=', value: 1 },
          'ms',
        ),
        ratio('ttfc-vs-proxy', 'TTFC p50 pack / bare-undici, 1 client', p50(p1) / p50(b1), 'lower'),
        ratio(
          'ttfc-loaded-vs-proxy',
          `TTFC p50 pack / bare-undici, ${LOADED} clients`,
          p50(pn) / p50(bn),
          'lower',
        ),
        ratio(
          'cpu-vs-proxy',
          `CPU/req pack / bare-undici, ${LOADED} clients`,
          pn.cpuPerRequestUs / bn.cpuPerRequestUs,
          'lower',
          { op: '<=', value: 1.5 },
        ),
      ],
      notes: [
        "Targets (issue 14): CPU per streamed request at most 1.5x the bare undici proxy's (16 clients), and at most 1 ms of TTFC p50 added over the bare proxy at 1 client (what the hop itself costs is the bare proxy's figure over the provider).",
        "TTFC is measured by the client as time to the first body byte; for `direct-1` the CPU column is the provider simulator's.",
        ...errorNotes(systems),
      ],
    };
  },
};
