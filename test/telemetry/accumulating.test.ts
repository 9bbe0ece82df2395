import {
  AggregationTemporality,
  DataPointType,
  type GaugeMetricData,
  type InstrumentType,
  MeterProvider,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import {
  createAccumulatingCounter,
  createAccumulatingGauge,
  createAccumulatingUpDownCounter,
  SERIES_LIMIT,
} from '../../src/telemetry/accumulating.ts';
import { OnDemandReader } from '../helpers/telemetry.ts';

function setup(temporality = AggregationTemporality.CUMULATIVE) {
  const reader = new OnDemandReader({ aggregationTemporalitySelector: (_: InstrumentType) => temporality });
  const meter = new MeterProvider({ readers: [reader] }).getMeter('test');
  /** The one Sum metric collected now, as `{ attributes JSON: value }`. */
  const collect = async () => {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const metric = resourceMetrics.scopeMetrics[0]?.metrics[0] as SumMetricData | GaugeMetricData | undefined;
    const values: Record<string, number> = {};
    if (!metric) return { metric, values };
    for (const point of metric.dataPoints) values[JSON.stringify(point.attributes)] = point.value;
    return { metric, values };
  };
  return { meter, collect };
}

describe('accumulating counters', () => {
  it('export a monotonic Sum per attribute set, whatever the key order of each add', async () => {
    const { meter, collect } = setup();
    const counter = createAccumulatingCounter(meter, 'requests', { unit: '{request}' });
    counter.add(1, { result: 'hit', layer: 'memory' });
    counter.add(2, { layer: 'memory', result: 'hit' });
    counter.add(1, { result: 'miss' });
    counter.add(-5, { result: 'miss' }); // ignored, as the SDK ignores it
    counter.add(Number.NaN, { result: 'miss' });
    const { metric, values } = await collect();
    expect(metric?.dataPointType).toBe(DataPointType.SUM);
    expect(metric && 'isMonotonic' in metric && metric.isMonotonic).toBe(true);
    expect(metric?.descriptor).toMatchObject({ name: 'requests', unit: '{request}' });
    expect(values).toEqual({ '{"result":"hit","layer":"memory"}': 3, '{"result":"miss"}': 1 });
  });

  it('keep values of different types apart, as the SDK does', async () => {
    const { meter, collect } = setup();
    const counter = createAccumulatingCounter(meter, 'typed', {});
    counter.add(1, { code: 1 });
    counter.add(1, { code: '1' });
    counter.add(1, { code: true });
    counter.add(1);
    counter.add(1, { code: undefined });
    const { values } = await collect();
    expect(Object.keys(values)).toHaveLength(4);
    // An attribute without a value is no attribute (the SDK drops it): the same series as none.
    expect(values['{}']).toBe(2);
  });

  it('are cumulative across collections, or deltas when the reader asks', async () => {
    const cumulative = setup();
    const a = createAccumulatingCounter(cumulative.meter, 'c', {});
    a.add(2, { x: 'y' });
    expect((await cumulative.collect()).values).toEqual({ '{"x":"y"}': 2 });
    a.add(3, { x: 'y' });
    expect((await cumulative.collect()).values).toEqual({ '{"x":"y"}': 5 });

    const delta = setup(AggregationTemporality.DELTA);
    const b = createAccumulatingCounter(delta.meter, 'd', {});
    b.add(2, { x: 'y' });
    expect((await delta.collect()).values).toEqual({ '{"x":"y"}': 2 });
    b.add(3, { x: 'y' });
    expect((await delta.collect()).values).toEqual({ '{"x":"y"}': 3 });
  });

  it('go down as well as up when they are up-down counters', async () => {
    const { meter, collect } = setup();
    const active = createAccumulatingUpDownCounter(meter, 'active', {});
    active.add(1, { route: '/a' });
    active.add(1, { route: '/a' });
    active.add(-1, { route: '/a' });
    const { metric, values } = await collect();
    expect(metric?.dataPointType).toBe(DataPointType.SUM);
    expect(metric && 'isMonotonic' in metric && metric.isMonotonic).toBe(false);
    expect(values).toEqual({ '{"route":"/a"}': 1 });
  });

  it('report the last value per attribute set when they are gauges', async () => {
    const { meter, collect } = setup();
    const gauge = createAccumulatingGauge(meter, 'entries', { unit: '{entry}' });
    gauge.record(5, { layer: 'memory' });
    gauge.record(3, { layer: 'memory' });
    gauge.record(Number.NaN, { layer: 'memory' });
    gauge.record(1, { layer: 'redis' });
    const { metric, values } = await collect();
    expect(metric?.dataPointType).toBe(DataPointType.GAUGE);
    expect(values).toEqual({ '{"layer":"memory"}': 3, '{"layer":"redis"}': 1 });
    gauge.record(0, { layer: 'redis' });
    expect((await collect()).values).toEqual({ '{"layer":"memory"}': 3, '{"layer":"redis"}': 0 });
  });

  it('fold attribute sets beyond the series limit into the spec overflow series', async () => {
    const { meter, collect } = setup();
    const counter = createAccumulatingCounter(meter, 'wide', {});
    for (let i = 0; i < SERIES_LIMIT + 10; i++) counter.add(1, { id: `v${i}` });
    const { values } = await collect();
    expect(Object.keys(values)).toHaveLength(SERIES_LIMIT + 1);
    expect(values['{"otel.metric.overflow":true}']).toBe(10);
  });
});
