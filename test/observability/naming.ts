/**
 * The two Prometheus names of every metric the package exports: the in-process exporter's
 * (@opentelemetry/exporter-prometheus: dots → underscores, `_total` on counters, no unit suffix) and the
 * collector prometheus exporter's (the unit appended first: opentelemetry-collector-contrib
 * pkg/translator/prometheus, `BuildCompliantName`).
 */
import { readFileSync } from 'node:fs';
import { unitSuffix } from '../../grafana/src/promql.ts';
import { INSTRUMENT_SPECS } from '../../src/telemetry/instruments.ts';

export type MetricKind = 'counter' | 'histogram' | 'gauge';

export interface KnownMetric {
  /** The OTel instrument name (`alchemist.request.duration`). */
  readonly otelName: string;
  readonly kind: MetricKind;
  readonly unit: string;
}

const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_+/g, '_');

/** Base name without `_total`, as the collector builds it: sanitized name + unit suffix. */
export function collectorBase(base: string, unit: string, kind: MetricKind | 'updowncounter'): string {
  if (unit === '1') return kind === 'gauge' ? `${base}_ratio` : base;
  const suffix = unitSuffix(unit);
  return suffix && !base.endsWith(`_${suffix}`) ? `${base}_${suffix}` : base;
}

/** Series names of one metric on a path (histograms: _bucket, _sum, _count). */
export function seriesNames(metric: KnownMetric, path: 'in-process' | 'collector'): string[] {
  const base = sanitize(metric.otelName);
  const name = path === 'collector' ? collectorBase(base, metric.unit, metric.kind) : base;
  if (metric.kind === 'counter') return [`${name}_total`];
  if (metric.kind === 'histogram') return [`${name}_bucket`, `${name}_sum`, `${name}_count`];
  return [name];
}

/** Runtime metrics, read from src/telemetry/runtime.ts (name, kind and unit of each observable). */
function runtimeMetrics(): KnownMetric[] {
  const source = readFileSync(new URL('../../src/telemetry/runtime.ts', import.meta.url), 'utf8');
  const found: KnownMetric[] = [];
  const pattern = /createObservable(Gauge|Counter|UpDownCounter)\('([^']+)',\s*\{\s*unit:\s*'([^']*)'/g;
  for (const match of source.matchAll(pattern)) {
    found.push({ otelName: match[2]!, kind: match[1] === 'Counter' ? 'counter' : 'gauge', unit: match[3]! });
  }
  return found;
}

/** Every metric this package exports (instruments + runtime) and the collector's span metrics. */
export function knownMetrics(): KnownMetric[] {
  const instruments = Object.values(INSTRUMENT_SPECS).map(
    (spec): KnownMetric => ({
      otelName: spec.name,
      kind: spec.kind === 'updowncounter' ? 'gauge' : spec.kind,
      unit: spec.unit,
    }),
  );
  return [...instruments, ...runtimeMetrics()];
}

/** Span metrics of the collector's span_metrics connector (config: histogram unit s). */
export const SPAN_METRICS: readonly KnownMetric[] = [
  { otelName: 'traces.span.metrics.duration', kind: 'histogram', unit: 's' },
  { otelName: 'traces.span.metrics.calls', kind: 'counter', unit: '' },
];
