import { errorNotes, pick, ratio, type Scenario } from '../scenario.ts';
import { startBenchRedis } from '../systems/redis.ts';
import { uniquePrompts } from '../workload.ts';

const CONNECTIONS = 32;

/**
 * (5) Redis-backed vs memory-only cache, on the miss path (every call looks Redis up and writes the
 * answer to it: the most Redis work per request). A private redis-server on a free loopback port.
 */
export const redisVsMemory: Scenario = {
  id: 'redis',
  title: 'Redis-backed vs memory-only cache',
  async run(bench, scope) {
    const redis = await startBenchRedis();
    scope.defer(() => redis.stop());
    const [simulator, sink] = await Promise.all([
      scope.spawn('simulator', { kind: 'simulator', latencyMs: 0 }),
      scope.spawn('otlp-sink', { kind: 'sink' }),
    ]);
    const upstream = simulator.url;
    const [memory, withRedis] = await Promise.all([
      scope.spawn('memory', { kind: 'pack', upstream, cache: true, otlpEndpoint: sink.url }),
      scope.spawn('redis', {
        kind: 'pack',
        upstream,
        cache: true,
        redisUrl: redis.url,
        otlpEndpoint: sink.url,
      }),
    ]);
    const systems = await bench.measureAll([
      {
        name: 'memory',
        label: 'full pack, memory LRU only',
        system: memory,
        body: uniquePrompts('redis-mem'),
        connections: CONNECTIONS,
        caches: true,
      },
      {
        name: 'redis',
        label: 'full pack, memory LRU + Redis',
        system: withRedis,
        body: uniquePrompts('redis-redis'),
        connections: CONNECTIONS,
        caches: true,
      },
    ]);
    const m = pick(systems, 'memory');
    const r = pick(systems, 'redis');
    return {
      id: this.id,
      title: this.title,
      workload: `${CONNECTIONS} connections, provider latency 0 ms, every prompt unique (a Redis read and write per request)`,
      systems,
      ratios: [
        ratio('throughput', 'throughput redis / memory', r.throughput / m.throughput, 'higher'),
        ratio('cpu', 'CPU/req redis / memory', r.cpuPerRequestUs / m.cpuPerRequestUs, 'lower'),
        ratio('p99', 'p99 latency redis / memory', r.latencyMs.p99 / m.latencyMs.p99, 'lower'),
      ],
      notes: [`redis-server ${redis.url} (private, no persistence)`, ...errorNotes(systems)],
    };
  },
};
