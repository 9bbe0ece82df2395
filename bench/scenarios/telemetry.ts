import { errorNotes, pick, ratio, type Scenario } from '../scenario.ts';
import { uniquePrompts } from '../workload.ts';

const CONNECTIONS = 32;

/**
 * (4) What telemetry costs: the same pack with the OTel SDK exporting every span and metric over
 * OTLP/HTTP (to a sink process), and with no SDK registered (the API's no-op path). The miss path is
 * the worst case: a request span, a CLIENT span and the gen_ai metrics on every call.
 */
export const telemetryCost: Scenario = {
  id: 'telemetry',
  title: 'telemetry on vs off',
  async run(bench, scope) {
    const [simulator, sink] = await Promise.all([
      scope.spawn('simulator', { kind: 'simulator', latencyMs: 0 }),
      scope.spawn('otlp-sink', { kind: 'sink' }),
    ]);
    const upstream = simulator.url;
    const [off, on] = await Promise.all([
      scope.spawn('telemetry-off', { kind: 'pack', upstream, cache: true }),
      scope.spawn('telemetry-on', { kind: 'pack', upstream, cache: true, otlpEndpoint: sink.url }),
    ]);
    const systems = await bench.measureAll([
      {
        name: 'telemetry-off',
        label: 'full pack, no OTel SDK',
        system: off,
        body: uniquePrompts('tel-off'),
        connections: CONNECTIONS,
        caches: true,
      },
      {
        name: 'telemetry-on',
        label: 'full pack, SDK + OTLP export of spans and metrics',
        system: on,
        body: uniquePrompts('tel-on'),
        connections: CONNECTIONS,
        caches: true,
      },
    ]);
    const off1 = pick(systems, 'telemetry-off');
    const on1 = pick(systems, 'telemetry-on');
    return {
      id: this.id,
      title: this.title,
      workload: `${CONNECTIONS} connections, provider latency 0 ms, every prompt unique (the most telemetry per request)`,
      systems,
      ratios: [
        ratio(
          'throughput-cost',
          'throughput lost with telemetry on (1 - on/off)',
          1 - on1.throughput / off1.throughput,
          'lower',
          { op: '<=', value: 0.15 },
          'share',
        ),
        ratio('cpu', 'CPU/req on / off', on1.cpuPerRequestUs / off1.cpuPerRequestUs, 'lower'),
        ratio('p99', 'p99 latency on / off', on1.latencyMs.p99 / off1.latencyMs.p99, 'lower'),
      ],
      notes: ['Target (issue 8): telemetry costs at most 15% throughput.', ...errorNotes(systems)],
    };
  },
};
