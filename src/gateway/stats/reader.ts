import { MetricReader } from '@opentelemetry/sdk-metrics';

/**
 * A metric reader collected on demand by `/admin/stats`: it sees the same instruments, with the same
 * cumulative aggregation, as the Prometheus exporter, so the admin summary and the dashboards agree.
 */
export class OnDemandMetricReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}
