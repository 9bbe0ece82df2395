import { dashboard } from '../dashboard.ts';
import { higherIsBetter, lowerIsBetter, row, stat, stateTimeline, timeseries, valueMap } from '../panels.ts';
import { metric, RATE } from '../promql.ts';

const delayP99 = metric('nodejs_eventloop_delay_p99', 's');
const delayMax = metric('nodejs_eventloop_delay_max', 's');
const utilization = metric('nodejs_eventloop_utilization', '1');
const heapUsed = metric('v8js_memory_heap_used', 'By');
const heapLimit = metric('v8js_memory_heap_limit', 'By');
const rss = metric('process_memory_usage', 'By');
const cpu = metric('process_cpu_time', 's', '_total');

/** System: event loop, heap, RSS, CPU, in-flight calls and Redis availability per instance. */
export function system() {
  return dashboard({
    uid: 'alchemist-system',
    title: 'alchemist-perf / System',
    description: 'Node.js runtime health of each gateway instance, in-flight calls and Redis availability.',
    panels: [
      row('Now'),
      stat({
        title: 'Event loop delay p99',
        description: 'Worst instance: nodejs.eventloop.delay.p99 over the last collection interval.',
        queries: [{ expr: `max(${delayP99})` }],
        unit: 's',
        thresholds: lowerIsBetter(0.05, 0.2),
        w: 6,
      }),
      stat({
        title: 'RSS',
        description: 'Largest resident set size among instances (process.memory.usage).',
        queries: [{ expr: `max(${rss})` }],
        unit: 'bytes',
        thresholds: lowerIsBetter(1e9, 2e9),
        w: 6,
      }),
      stat({
        title: 'In flight',
        description: 'Calls in flight through the policies, all instances (alchemist.requests.active).',
        queries: [{ expr: 'sum(alchemist_requests_active)' }],
        thresholds: lowerIsBetter(100, 500),
        w: 6,
      }),
      stat({
        title: 'Redis',
        description: 'Shared store availability: degraded when any instance cannot reach Redis.',
        queries: [{ expr: 'min(alchemist_store_available)' }],
        mappings: [valueMap({ '0': ['degraded', 'red'], '1': ['up', 'green'] })],
        thresholds: higherIsBetter(1, 1),
        w: 6,
      }),
      row('Runtime'),
      timeseries({
        title: 'Event loop delay',
        description:
          'nodejs.eventloop.delay p99 and max per instance: time callbacks waited beyond their due time.',
        queries: [
          { expr: `max by (instance) (${delayP99})`, legend: 'p99 {{instance}}' },
          { expr: `max by (instance) (${delayMax})`, legend: 'max {{instance}}' },
        ],
        unit: 's',
        w: 12,
      }),
      timeseries({
        title: 'Event loop utilization',
        description: 'nodejs.eventloop.utilization: the fraction of time the loop was busy.',
        queries: [{ expr: `max by (instance) (${utilization})`, legend: '{{instance}}' }],
        unit: 'percentunit',
        min: 0,
        max: 1,
        w: 12,
      }),
      timeseries({
        title: 'Heap',
        description: 'v8js.memory.heap.used and the heap size V8 reserved (v8js.memory.heap.limit).',
        queries: [
          { expr: `max by (instance) (${heapUsed})`, legend: 'used {{instance}}' },
          { expr: `max by (instance) (${heapLimit})`, legend: 'total {{instance}}' },
        ],
        unit: 'bytes',
        w: 8,
      }),
      timeseries({
        title: 'RSS',
        description: 'process.memory.usage: resident set size per instance.',
        queries: [{ expr: `max by (instance) (${rss})`, legend: '{{instance}}' }],
        unit: 'bytes',
        w: 8,
      }),
      timeseries({
        title: 'CPU',
        description: 'process.cpu.time rate by mode: 1 = one core busy.',
        queries: [
          {
            expr: `sum by (instance, cpu_mode) (rate(${cpu}[${RATE}]))`,
            legend: '{{cpu_mode}} {{instance}}',
          },
        ],
        unit: 'percentunit',
        w: 8,
      }),
      row('Load and dependencies'),
      timeseries({
        title: 'In-flight calls by route',
        description: 'alchemist.requests.active per route and instance.',
        queries: [
          {
            expr: 'sum by (instance, http_route) (alchemist_requests_active)',
            legend: '{{http_route}} {{instance}}',
          },
        ],
        w: 12,
      }),
      stateTimeline({
        title: 'Redis availability',
        description:
          'alchemist.store.available per instance: up, or degraded (in-memory layer and local limits).',
        queries: [
          { expr: 'min by (instance, alchemist_store) (alchemist_store_available)', legend: '{{instance}}' },
        ],
        mappings: [valueMap({ '0': ['degraded', 'red'], '1': ['up', 'green'] })],
      }),
    ],
  });
}
