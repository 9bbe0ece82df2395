import { errorNotes, pick, ratio, type Scenario } from '../scenario.ts';
import { cyclingPrompts, mixedPrompts } from '../workload.ts';

const CONNECTIONS = 1000;
const ENTRIES = 10_000;
const LATENCY_MS = 50;

/**
 * (6) 1000 concurrent connections against a pack whose cache holds 10k entries: resident memory and
 * tail latency, next to the plain proxy under the same connections. 90% of requests ask a stored
 * question, 10% a new one (which waits 50 ms on the provider, so the connections really overlap).
 */
export const connections: Scenario = {
  id: 'connections',
  title: '1000 connections, 10k cache entries',
  async run(bench, scope) {
    const [simulator, sink] = await Promise.all([
      scope.spawn('simulator', { kind: 'simulator', latencyMs: LATENCY_MS }),
      scope.spawn('otlp-sink', { kind: 'sink' }),
    ]);
    const upstream = simulator.url;
    const [proxy, pack] = await Promise.all([
      scope.spawn('bare-undici', { kind: 'proxy', upstream, client: 'undici' }),
      scope.spawn('pack', {
        kind: 'pack',
        upstream,
        cache: true,
        maxMemoryItems: ENTRIES,
        otlpEndpoint: sink.url,
      }),
    ]);
    const fill = {
      name: 'fill',
      label: 'pre-fill',
      system: pack,
      body: cyclingPrompts('conn', ENTRIES),
      connections: 200,
    };
    bench.settings.progress.log(`  filling the cache with ${ENTRIES.toLocaleString('en-US')} entries`);
    const filled = await bench.drive(fill, 120_000, ENTRIES);
    if (filled.errors > 0) throw new Error(`pre-fill failed: ${filled.errors} errors (${filled.firstError})`);
    const systems = await bench.measureAll([
      {
        name: 'bare-undici',
        label: 'Hono proxy, undici, no cache',
        system: proxy,
        body: mixedPrompts('conn', ENTRIES, 0.9),
        connections: CONNECTIONS,
      },
      {
        name: 'pack',
        label: `full pack, ${ENTRIES.toLocaleString('en-US')} entries stored`,
        system: pack,
        body: mixedPrompts('conn', ENTRIES, 0.9),
        connections: CONNECTIONS,
        caches: true,
      },
    ]);
    const b = pick(systems, 'bare-undici');
    const p = pick(systems, 'pack');
    return {
      id: this.id,
      title: this.title,
      workload: `${CONNECTIONS} connections, provider latency ${LATENCY_MS} ms, ${ENTRIES} entries pre-filled, 90% of prompts stored`,
      systems,
      ratios: [
        ratio(
          'rss-mb',
          'pack RSS at 1000 connections, 10k entries (MB)',
          p.rssMb,
          'lower',
          { op: '<=', value: 200 },
          'MB',
        ),
        ratio('rss', 'RSS pack / bare-undici', p.rssMb / b.rssMb, 'lower'),
        ratio('p99', 'p99 latency pack / bare-undici', p.latencyMs.p99 / b.latencyMs.p99, 'lower'),
        ratio('throughput', 'throughput pack / bare-undici', p.throughput / b.throughput, 'higher'),
      ],
      notes: [
        'Target (issue 14): RSS at most 200 MB at 1000 connections and 10k entries (an absolute figure; issue 8 had asked 150 MB).',
        ...errorNotes(systems),
      ],
    };
  },
};
