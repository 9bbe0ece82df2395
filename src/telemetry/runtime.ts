import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Meter } from '@opentelemetry/api';

/**
 * Process and runtime metrics for the System dashboard, named after the semconv `process.*`,
 * `v8js.*` and `nodejs.*` conventions: event-loop delay and utilization, heap, RSS and CPU time.
 * Everything is observed at collection time; nothing runs per request.
 */
export function startRuntimeMetrics(meter: Meter): () => void {
  const resolutionMs = 10;
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  let lastElu = performance.eventLoopUtilization();

  const rss = meter.createObservableGauge('process.memory.usage', {
    unit: 'By',
    description: 'Resident set size of the process.',
  });
  const heapUsed = meter.createObservableGauge('v8js.memory.heap.used', {
    unit: 'By',
    description: 'V8 heap in use.',
  });
  const heapLimit = meter.createObservableGauge('v8js.memory.heap.limit', {
    unit: 'By',
    description: 'V8 heap total size.',
  });
  const cpu = meter.createObservableCounter('process.cpu.time', {
    unit: 's',
    description: 'CPU time used by the process, by mode.',
  });
  const delayP50 = meter.createObservableGauge('nodejs.eventloop.delay.p50', {
    unit: 's',
    description: 'Event-loop delay, median over the last collection interval.',
  });
  const delayP99 = meter.createObservableGauge('nodejs.eventloop.delay.p99', {
    unit: 's',
    description: 'Event-loop delay, 99th percentile over the last collection interval.',
  });
  const delayMax = meter.createObservableGauge('nodejs.eventloop.delay.max', {
    unit: 's',
    description: 'Event-loop delay, maximum over the last collection interval.',
  });
  const utilization = meter.createObservableGauge('nodejs.eventloop.utilization', {
    unit: '1',
    description: 'Fraction of time the event loop was busy since the last collection.',
  });

  const observe: Parameters<Meter['addBatchObservableCallback']>[0] = (result) => {
    const memory = process.memoryUsage();
    result.observe(rss, memory.rss);
    result.observe(heapUsed, memory.heapUsed);
    result.observe(heapLimit, memory.heapTotal);
    const usage = process.cpuUsage();
    result.observe(cpu, usage.user / 1e6, { 'cpu.mode': 'user' });
    result.observe(cpu, usage.system / 1e6, { 'cpu.mode': 'system' });
    // The histogram holds whole timer intervals in ns (an idle loop reads ~resolution): report the excess.
    const excess = (ns: number) => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - resolutionMs) / 1000 : 0);
    result.observe(delayP50, excess(delay.percentile(50)));
    result.observe(delayP99, excess(delay.percentile(99)));
    result.observe(delayMax, excess(delay.max));
    delay.reset();
    const elu = performance.eventLoopUtilization();
    result.observe(utilization, performance.eventLoopUtilization(elu, lastElu).utilization);
    lastElu = elu;
  };
  const observables = [rss, heapUsed, heapLimit, cpu, delayP50, delayP99, delayMax, utilization];
  meter.addBatchObservableCallback(observe, observables);
  return () => {
    meter.removeBatchObservableCallback(observe, observables);
    delay.disable();
  };
}
