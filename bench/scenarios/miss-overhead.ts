import { errorNotes, informational, pick, ratio, type Scenario } from '../scenario.ts';
import { uniquePrompts } from '../workload.ts';

const CONNECTIONS = 32;

/**
 * (2) What the pack costs when it cannot help: every prompt is new (a cache miss), the provider answers
 * at once, so the server's own CPU is all there is to see. Baselines: the same Hono proxy with the
 * gateway's HTTP client (undici), and with the global fetch.
 */
export const missOverhead: Scenario = {
  id: 'miss-overhead',
  title: 'miss-path overhead vs bare Hono proxies',
  async run(bench, scope) {
    const [simulator, sink] = await Promise.all([
      scope.spawn('simulator', { kind: 'simulator', latencyMs: 0 }),
      scope.spawn('otlp-sink', { kind: 'sink' }),
    ]);
    const upstream = simulator.url;
    const [bareFetch, bareUndici, pack, lean] = await Promise.all([
      scope.spawn('bare-fetch', { kind: 'proxy', upstream, client: 'fetch' }),
      scope.spawn('bare-undici', { kind: 'proxy', upstream, client: 'undici' }),
      scope.spawn('pack', { kind: 'pack', upstream, cache: true, otlpEndpoint: sink.url }),
      // Where the overhead comes from: the same gateway with the cache off and no OTel SDK.
      scope.spawn('pack-lean', { kind: 'pack', upstream, cache: false }),
    ]);
    const systems = await bench.measureAll([
      {
        name: 'bare-fetch',
        label: 'Hono proxy, global fetch',
        system: bareFetch,
        body: uniquePrompts('miss-fetch'),
        connections: CONNECTIONS,
      },
      {
        name: 'bare-undici',
        label: 'Hono proxy, undici (gateway client)',
        system: bareUndici,
        body: uniquePrompts('miss-undici'),
        connections: CONNECTIONS,
      },
      {
        name: 'pack-lean',
        label: 'gateway, cache off, no OTel SDK (limits, breaker, proxy)',
        system: lean,
        body: uniquePrompts('miss-lean'),
        connections: CONNECTIONS,
      },
      {
        name: 'pack',
        label: 'full pack, every request a miss',
        system: pack,
        body: uniquePrompts('miss-pack'),
        connections: CONNECTIONS,
        caches: true,
      },
    ]);
    const f = pick(systems, 'bare-fetch');
    const u = pick(systems, 'bare-undici');
    const p = pick(systems, 'pack');
    const l = pick(systems, 'pack-lean');
    return {
      id: this.id,
      title: this.title,
      workload: `${CONNECTIONS} connections, provider latency 0 ms, every prompt unique (100% misses)`,
      systems,
      ratios: [
        ratio(
          'overhead-cpu',
          'pack CPU/req overhead over bare-undici, as a share of bare-fetch CPU/req',
          (p.cpuPerRequestUs - u.cpuPerRequestUs) / f.cpuPerRequestUs,
          'lower',
        ),
        ratio('cpu-vs-undici', 'CPU/req pack / bare-undici', p.cpuPerRequestUs / u.cpuPerRequestUs, 'lower', {
          op: '<=',
          value: 1.3,
        }),
        ratio('cpu-vs-fetch', 'CPU/req pack / bare-fetch', p.cpuPerRequestUs / f.cpuPerRequestUs, 'lower'),
        informational(
          ratio(
            'lean-share',
            'share of the pack overhead already in pack-lean (gateway without cache and telemetry)',
            (l.cpuPerRequestUs - u.cpuPerRequestUs) / (p.cpuPerRequestUs - u.cpuPerRequestUs),
            'lower',
            undefined,
            'share',
          ),
        ),
        ratio('throughput-vs-undici', 'throughput pack / bare-undici', p.throughput / u.throughput, 'higher'),
        informational(
          ratio(
            'undici-vs-fetch',
            'CPU/req bare-undici / bare-fetch',
            u.cpuPerRequestUs / f.cpuPerRequestUs,
            'lower',
          ),
        ),
      ],
      notes: [
        "Target (issue 14): with every policy on, CPU per miss at most 1.3x the bare Hono proxy using the same undici pool. It replaces issue 8's (the overhead at most half of a bare-fetch proxy's CPU), still shown as the first figure.",
        ...errorNotes(systems),
      ],
    };
  },
};
