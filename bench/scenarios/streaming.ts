import { errorNotes, pick, ratio, type Scenario } from '../scenario.ts';
import { uniquePrompts } from '../workload.ts';

const CONNECTIONS = 16;
const LATENCY_MS = 20;
const CHUNK_DELAY_MS = 2;

/**
 * (7) Time to first chunk of a streamed answer (`stream: true`, a miss each time): straight to the
 * provider, through the plain proxy, and through the pack, which parses and re-emits every SSE event
 * (to record it for the cache and read usage) rather than piping bytes.
 */
export const streaming: Scenario = {
  id: 'streaming',
  title: 'streaming time-to-first-chunk overhead',
  async run(bench, scope) {
    const simulator = await scope.spawn('direct', {
      kind: 'simulator',
      latencyMs: LATENCY_MS,
      chunkDelayMs: CHUNK_DELAY_MS,
    });
    const sink = await scope.spawn('otlp-sink', { kind: 'sink' });
    const upstream = simulator.url;
    const proxy = await scope.spawn('bare-undici', { kind: 'proxy', upstream, client: 'undici' });
    const pack = await scope.spawn('pack', { kind: 'pack', upstream, cache: true, otlpEndpoint: sink.url });
    const base = { connections: CONNECTIONS, streams: true };
    const systems = await bench.measureAll([
      {
        ...base,
        name: 'direct',
        label: 'the provider itself',
        system: simulator,
        body: uniquePrompts('stream-direct', { stream: true }),
      },
      {
        ...base,
        name: 'bare-undici',
        label: 'Hono proxy, undici, bytes piped',
        system: proxy,
        body: uniquePrompts('stream-proxy', { stream: true }),
      },
      {
        ...base,
        name: 'pack',
        label: 'full pack, stream miss (recorded for the cache)',
        system: pack,
        body: uniquePrompts('stream-pack', { stream: true }),
        caches: true,
      },
    ]);
    const d = pick(systems, 'direct');
    const b = pick(systems, 'bare-undici');
    const p = pick(systems, 'pack');
    const ttfc = (s: typeof d) => s.ttfcMs?.p50 ?? 0;
    return {
      id: this.id,
      title: this.title,
      workload: `${CONNECTIONS} connections, stream: true, provider first chunk after ${LATENCY_MS} ms then one every ${CHUNK_DELAY_MS} ms, every prompt unique`,
      systems,
      ratios: [
        ratio(
          'ttfc-overhead-ms',
          'TTFC p50 added by the pack over the provider (ms)',
          ttfc(p) - ttfc(d),
          'lower',
          undefined,
          'ms',
        ),
        ratio('ttfc-vs-proxy', 'TTFC p50 pack / bare-undici', ttfc(p) / ttfc(b), 'lower'),
        ratio(
          'ttfc-p99-vs-proxy',
          'TTFC p99 pack / bare-undici',
          (p.ttfcMs?.p99 ?? 0) / (b.ttfcMs?.p99 || 1),
          'lower',
        ),
        ratio('cpu-vs-proxy', 'CPU/req pack / bare-undici', p.cpuPerRequestUs / b.cpuPerRequestUs, 'lower'),
      ],
      notes: [
        "TTFC is measured by the client as time to the first body byte; for `direct` the CPU column is the provider simulator's.",
        ...errorNotes(systems),
      ],
    };
  },
};
