/**
 * A stand-in for the collector's span_metrics connector + prometheus exporter, for the live test: it
 * receives the gateway's real spans over OTLP/HTTP (JSON) and serves, in OpenMetrics text with
 * exemplars, the series the connector would produce with otel-collector/config.yaml: the
 * `traces_span_metrics_duration_seconds` histogram (the config's buckets) and
 * `traces_span_metrics_calls_total`, labelled service_name, span_name, span_kind, status_code and the
 * configured dimensions, each bucket carrying the trace_id/span_id of its latest span as exemplar.
 * (Connector semantics: opentelemetry-collector-contrib connector/spanmetricsconnector/README.md.)
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { freePort } from '../helpers/ports.ts';
import { readYaml } from './queries.ts';

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpAttribute[];
  status?: { code?: number };
}
interface OtlpTraces {
  resourceSpans?: {
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: { spans?: OtlpSpan[] }[];
  }[];
}

interface Series {
  labels: Record<string, string>;
  counts: number[];
  sum: number;
  count: number;
  exemplars: ({ traceId: string; spanId: string; value: number; time: number } | undefined)[];
}

const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUSES = ['UNSET', 'OK', 'ERROR'];

/** `5ms`, `1280ms`, `2s` → seconds. */
function seconds(duration: string): number {
  const match = /^([\d.]+)(ms|s)$/.exec(duration);
  if (!match) throw new Error(`unsupported duration ${duration}`);
  return Number(match[1]) / (match[2] === 'ms' ? 1000 : 1);
}

const text = (value: OtlpValue | undefined) =>
  value === undefined
    ? undefined
    : String(value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue ?? '');
const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([key, value]) => `${key}="${escapeLabel(value)}"`)
    .join(',');

export interface SpanMetricsServer {
  /** OTLP/HTTP base URL for the gateway (`otlp_endpoint`). */
  readonly otlpUrl: string;
  /** host:port Prometheus scrapes (`/metrics`). */
  readonly target: string;
  /** Trace ids of every span received. */
  readonly traceIds: ReadonlySet<string>;
  close(): Promise<void>;
}

export async function startSpanMetrics(): Promise<SpanMetricsServer> {
  const config = readYaml('otel-collector/config.yaml') as {
    connectors: {
      span_metrics: { histogram: { explicit: { buckets: string[] } }; dimensions: { name: string }[] };
    };
  };
  const connector = config.connectors.span_metrics;
  const bounds = connector.histogram.explicit.buckets.map(seconds);
  const dimensions = connector.dimensions.map((dimension) => dimension.name);
  const series = new Map<string, Series>();
  const traceIds = new Set<string>();

  const record = (service: string, span: OtlpSpan) => {
    const attributes = new Map((span.attributes ?? []).map((a) => [a.key, text(a.value)]));
    const labels: Record<string, string> = {
      service_name: service,
      span_name: span.name,
      span_kind: `SPAN_KIND_${KINDS[span.kind] ?? 'UNSPECIFIED'}`,
      status_code: `STATUS_CODE_${STATUSES[span.status?.code ?? 0] ?? 'UNSET'}`,
    };
    for (const name of dimensions) {
      const value = attributes.get(name);
      if (value !== undefined) labels[name.replace(/[^a-zA-Z0-9_]/g, '_')] = value;
    }
    const key = labelText(labels);
    let entry = series.get(key);
    if (!entry) {
      entry = {
        labels,
        counts: bounds.map(() => 0),
        sum: 0,
        count: 0,
        exemplars: [...bounds, Infinity].map(() => undefined),
      };
      series.set(key, entry);
    }
    const duration = Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e9;
    const bucket = bounds.findIndex((bound) => duration <= bound);
    for (let index = bucket === -1 ? bounds.length : bucket; index < bounds.length; index++)
      entry.counts[index]!++;
    entry.sum += duration;
    entry.count++;
    entry.exemplars[bucket === -1 ? bounds.length : bucket] = {
      traceId: span.traceId,
      spanId: span.spanId,
      value: duration,
      time: Number(BigInt(span.endTimeUnixNano) / 1_000_000n) / 1000,
    };
    traceIds.add(span.traceId);
  };

  const exposition = () => {
    const lines = ['# TYPE traces_span_metrics_calls counter'];
    for (const entry of series.values())
      lines.push(`traces_span_metrics_calls_total{${labelText(entry.labels)}} ${entry.count}`);
    lines.push('# TYPE traces_span_metrics_duration_seconds histogram');
    for (const entry of series.values()) {
      const base = labelText(entry.labels);
      [...bounds, Infinity].forEach((bound, index) => {
        const count = index < bounds.length ? entry.counts[index]! : entry.count;
        const le = bound === Infinity ? '+Inf' : String(bound);
        const exemplar = entry.exemplars[index];
        const suffix = exemplar
          ? ` # {trace_id="${exemplar.traceId}",span_id="${exemplar.spanId}"} ${exemplar.value} ${exemplar.time.toFixed(3)}`
          : '';
        lines.push(`traces_span_metrics_duration_seconds_bucket{${base},le="${le}"} ${count}${suffix}`);
      });
      lines.push(`traces_span_metrics_duration_seconds_sum{${base}} ${entry.sum}`);
      lines.push(`traces_span_metrics_duration_seconds_count{${base}} ${entry.count}`);
    }
    lines.push('# EOF');
    return `${lines.join('\n')}\n`;
  };

  const readBody = async (request: IncomingMessage) => {
    const parts: Buffer[] = [];
    for await (const part of request) parts.push(part as Buffer);
    const body = Buffer.concat(parts);
    return request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
  };

  const server: Server = createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/metrics') {
      response.writeHead(200, {
        'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8',
      });
      response.end(exposition());
      return;
    }
    readBody(request).then(
      (body) => {
        if (request.url === '/v1/traces' && String(request.headers['content-type']).includes('json')) {
          const traces = JSON.parse(body.toString('utf8')) as OtlpTraces;
          for (const resource of traces.resourceSpans ?? []) {
            const service =
              text(resource.resource?.attributes?.find((a) => a.key === 'service.name')?.value) ?? '';
            for (const scope of resource.scopeSpans ?? [])
              for (const span of scope.spans ?? []) record(service, span);
          }
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      },
      () => response.writeHead(400).end(),
    );
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    otlpUrl: `http://127.0.0.1:${port}`,
    target: `127.0.0.1:${port}`,
    traceIds,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
