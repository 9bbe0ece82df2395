import { errorNotes, pick, ratio, type Scenario } from '../scenario.ts';
import { skewedPrompts } from '../workload.ts';

const USERS = 128;
const LATENCY_MS = 50;

/**
 * (1) The seed's comparison: the same skewed, repeated questions from 128 concurrent users against a
 * provider that takes 50 ms, through a plain proxy ("standard") and through the full pack
 * ("enhanced": cache, limits, breakers, telemetry exported over OTLP).
 */
export const standardVsEnhanced: Scenario = {
  id: 'standard-vs-enhanced',
  title: 'standard vs enhanced (seed workload)',
  async run(bench, scope) {
    const [simulator, sink] = await Promise.all([
      scope.spawn('simulator', { kind: 'simulator', latencyMs: LATENCY_MS }),
      scope.spawn('otlp-sink', { kind: 'sink' }),
    ]);
    const [standard, enhanced] = await Promise.all([
      scope.spawn('standard', { kind: 'proxy', upstream: simulator.url, client: 'undici' }),
      scope.spawn('enhanced', { kind: 'pack', upstream: simulator.url, cache: true, otlpEndpoint: sink.url }),
    ]);
    const prompts = () => skewedPrompts({ distinct: 500, exponent: 1.1, seed: 8, tag: 'seed' });
    const systems = await bench.measureAll([
      {
        name: 'standard',
        label: 'Hono proxy, no policies',
        system: standard,
        body: prompts(),
        connections: USERS,
      },
      {
        name: 'enhanced',
        label: 'full pack (cache, limits, breaker, OTLP telemetry)',
        system: enhanced,
        body: prompts(),
        connections: USERS,
        caches: true,
      },
    ]);
    const s = pick(systems, 'standard');
    const e = pick(systems, 'enhanced');
    return {
      id: this.id,
      title: this.title,
      workload: `${USERS} users, provider latency ${LATENCY_MS} ms, 500 distinct prompts with Zipf(1.1) popularity`,
      systems,
      ratios: [
        ratio('throughput', 'throughput enhanced / standard', e.throughput / s.throughput, 'higher', {
          op: '>=',
          value: 3.6,
        }),
        ratio('p50', 'p50 latency enhanced / standard', e.latencyMs.p50 / s.latencyMs.p50, 'lower'),
        ratio('p99', 'p99 latency enhanced / standard', e.latencyMs.p99 / s.latencyMs.p99, 'lower'),
        ratio(
          'hit-rate',
          'cache hit rate (enhanced)',
          e.hitRate ?? 0,
          'higher',
          { op: '>=', value: 0.85 },
          'share',
        ),
      ],
      notes: [
        "Target (issue 14, the seed's headline): 3.6x the throughput at a hit rate of 85% or more; the hit rate here is over the measured window only (after warm-up).",
        ...errorNotes(systems),
      ],
    };
  },
};
