import { diag, type MeterProvider, metrics, type TracerProvider, trace } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  envDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
} from '@opentelemetry/resources';
import { type IMetricReader, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { getMeter } from './instruments.ts';
import { startRuntimeMetrics } from './runtime.ts';
import { PACKAGE_VERSION } from './version.ts';

export interface TelemetryOptions {
  /** service.name resource attribute. @default process.env.OTEL_SERVICE_NAME ?? 'alchemist-perf' */
  serviceName?: string;
  /** service.version resource attribute (your app's version). @default unset (the gateway sets its own) */
  serviceVersion?: string;
  /**
   * service.instance.id resource attribute: what keeps replicas' series apart behind a collector (its
   * Prometheus exporter makes it the `instance` label). @default a random UUID per process
   */
  serviceInstanceId?: string;
  /**
   * Serve Prometheus text on this port (`/metrics`), or `false` for none.
   * @default Number(process.env.OTEL_EXPORTER_PROMETHEUS_PORT ?? 9464)
   */
  prometheusPort?: number | false;
  /** Interface for the Prometheus endpoint. @default process.env.OTEL_EXPORTER_PROMETHEUS_HOST ?? '127.0.0.1' */
  prometheusHost?: string;
  /**
   * OTLP/HTTP endpoint for traces and metrics, e.g. `http://collector:4318`. Without it no traces are
   * exported. @default process.env.OTEL_EXPORTER_OTLP_ENDPOINT
   */
  otlpEndpoint?: string;
  /** OTLP metric push interval in ms. @default Number(process.env.OTEL_METRIC_EXPORT_INTERVAL ?? 15000) */
  otlpMetricIntervalMs?: number;
  /** Event loop, heap, RSS and CPU metrics. @default true */
  runtimeMetrics?: boolean;
  /** Extra span processors (tests use an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
  /** Extra metric readers. */
  metricReaders?: IMetricReader[];
}

export interface Telemetry {
  readonly meterProvider: MeterProvider;
  readonly tracerProvider: TracerProvider;
  /** Port the Prometheus endpoint listens on, when enabled. */
  readonly prometheusPort: number | undefined;
  /** Flush pending spans and metrics, then stop exporters. Safe to call twice. */
  shutdown(): Promise<void>;
}

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`${name}=${JSON.stringify(raw)} is not a number`);
  return value;
}

/**
 * Start the OpenTelemetry SDK for an app that uses alchemist-perf: Prometheus pull on :9464 (the
 * exporter default), OTLP/HTTP traces and metrics when an endpoint is configured, runtime metrics.
 * Libraries never call this; applications (and the gateway) do, once, at start.
 *
 * @example
 * const telemetry = await setupTelemetry({ serviceName: 'my-api' });
 * process.on('SIGTERM', () => telemetry.shutdown());
 */
export async function setupTelemetry(options: TelemetryOptions = {}): Promise<Telemetry> {
  const serviceName = options.serviceName ?? process.env.OTEL_SERVICE_NAME ?? 'alchemist-perf';
  const port =
    options.prometheusPort === false
      ? undefined
      : (options.prometheusPort ?? envNumber('OTEL_EXPORTER_PROMETHEUS_PORT') ?? 9464);
  const host = options.prometheusHost ?? process.env.OTEL_EXPORTER_PROMETHEUS_HOST ?? '127.0.0.1';
  const otlpEndpoint = (options.otlpEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT)?.replace(/\/+$/, '');

  const metricReaders: IMetricReader[] = [...(options.metricReaders ?? [])];
  let prometheus: PrometheusExporter | undefined;
  if (port !== undefined) {
    prometheus = await startPrometheus(port, host);
    metricReaders.push(prometheus);
  }
  const spanProcessors: SpanProcessor[] = [...(options.spanProcessors ?? [])];
  if (otlpEndpoint) {
    spanProcessors.push(
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${otlpEndpoint}/v1/traces` }) }),
    );
    metricReaders.push(
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({ url: `${otlpEndpoint}/v1/metrics` }),
        exportIntervalMillis:
          options.otlpMetricIntervalMs ?? envNumber('OTEL_METRIC_EXPORT_INTERVAL') ?? 15_000,
      }),
    );
  }

  // Explicit (possibly empty) lists: NodeSDK would otherwise fall back to OTLP exporters from env
  // defaults and push to localhost:4318 even when nobody listens.
  const sdk = new NodeSDK({
    serviceName,
    ...resourceOptions(options),
    metricReaders,
    spanProcessors,
    logRecordProcessors: [],
  });
  sdk.start();
  const stopRuntime = options.runtimeMetrics === false ? undefined : startRuntimeMetrics(getMeter());
  diag.debug(`alchemist-perf ${PACKAGE_VERSION} telemetry started`);

  let shutdown: Promise<void> | undefined;
  return {
    meterProvider: metrics.getMeterProvider(),
    tracerProvider: trace.getTracerProvider(),
    prometheusPort: port,
    shutdown() {
      shutdown ??= (async () => {
        stopRuntime?.();
        await sdk.shutdown();
      })();
      return shutdown;
    },
  };
}

/**
 * The resource beyond service.name: `OTEL_RESOURCE_ATTRIBUTES` (the env detector) and a
 * `service.instance.id`, unless `OTEL_NODE_RESOURCE_DETECTORS` picks the detectors itself. The host,
 * process and OS detectors stay off by default: they add a dozen labels to every `target_info`.
 */
function resourceOptions(options: TelemetryOptions) {
  const attributes: Record<string, string> = {};
  if (options.serviceVersion !== undefined) attributes['service.version'] = options.serviceVersion;
  if (options.serviceInstanceId !== undefined) attributes['service.instance.id'] = options.serviceInstanceId;
  // Detected attributes override these (NodeSDK merges them over `resource`): an explicit instance id
  // therefore replaces the detector that would draw a random one.
  const detectors =
    options.serviceInstanceId === undefined ? [envDetector, serviceInstanceIdDetector] : [envDetector];
  return {
    resource: defaultResource().merge(resourceFromAttributes(attributes)),
    ...(process.env.OTEL_NODE_RESOURCE_DETECTORS === undefined ? { resourceDetectors: detectors } : {}),
  };
}

/** Start the exporter's HTTP server and wait until it listens, so a busy port fails loudly at start. */
function startPrometheus(port: number, host: string): Promise<PrometheusExporter> {
  return new Promise((resolve, reject) => {
    const exporter = new PrometheusExporter({ port, host, preventServerStart: true });
    exporter.startServer().then(
      () => resolve(exporter),
      (error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code;
        const why =
          code === 'EADDRINUSE'
            ? 'the port is in use: pass prometheusPort (or set OTEL_EXPORTER_PROMETHEUS_PORT) to a free port, or prometheusPort: false'
            : String(error);
        reject(
          Object.assign(new Error(`cannot serve Prometheus metrics on ${host}:${port}: ${why}`), { code }),
        );
      },
    );
  });
}
