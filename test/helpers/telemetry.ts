import type { Attributes } from '@opentelemetry/api';
import { metrics, trace } from '@opentelemetry/api';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

/** A reader we collect from on demand, so tests read metrics without timers. */
export class OnDemandReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

export interface TestTelemetry {
  readonly spanExporter: InMemorySpanExporter;
  readonly meterProvider: MeterProvider;
  readonly tracerProvider: TracerProvider;
  /** Finished spans so far. */
  spans(): ReadableSpan[];
  /** Collect every metric now. */
  collect(): Promise<ResourceMetrics>;
  /** Data points of one instrument, optionally only those whose attributes include `match`. */
  points(name: string, match?: Attributes): Promise<DataPoint<unknown>[]>;
  /** Sum of a counter (or up-down counter) across matching points; 0 when absent. */
  sum(name: string, match?: Attributes): Promise<number>;
  /** Number of recordings of a histogram across matching points. */
  histogramCount(name: string, match?: Attributes): Promise<number>;
  /** Last value of a gauge for matching points (undefined when absent). */
  gauge(name: string, match?: Attributes): Promise<number | undefined>;
  reset(): void;
}

let installed: TestTelemetry | undefined;

function matches(attributes: Attributes, match: Attributes | undefined): boolean {
  if (!match) return true;
  return Object.entries(match).every(([key, value]) => attributes[key] === value);
}

/**
 * In-memory span and metric exporters, registered as the global providers (once per test file:
 * vitest isolates files), so policies record with their defaults exactly as in production.
 */
export function useTestTelemetry(): TestTelemetry {
  if (installed) return installed;
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({
    spanProcessors: [new SimpleSpanProcessor({ exporter: spanExporter })],
  });
  const reader = new OnDemandReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);

  const collect = async () => {
    const { resourceMetrics, errors } = await reader.collect();
    if (errors.length > 0) throw errors[0];
    return resourceMetrics;
  };
  const points = async (name: string, match?: Attributes) => {
    const found: DataPoint<unknown>[] = [];
    for (const scope of (await collect()).scopeMetrics) {
      for (const metric of scope.metrics) {
        if (metric.descriptor.name !== name) continue;
        for (const point of metric.dataPoints as DataPoint<unknown>[]) {
          if (matches(point.attributes, match)) found.push(point);
        }
      }
    }
    return found;
  };
  installed = {
    spanExporter,
    meterProvider,
    tracerProvider,
    spans: () => spanExporter.getFinishedSpans(),
    collect,
    points,
    async sum(name, match) {
      return (await points(name, match)).reduce((total, point) => total + (point.value as number), 0);
    },
    async histogramCount(name, match) {
      return (await points(name, match)).reduce(
        (total, point) => total + (point.value as Histogram).count,
        0,
      );
    },
    async gauge(name, match) {
      const found = await points(name, match);
      return found.length === 0 ? undefined : (found[found.length - 1]!.value as number);
    },
    reset() {
      spanExporter.reset();
    },
  };
  return installed;
}
