import type {
  Attributes,
  MeterProvider,
  Context as OtelContext,
  Span,
  TextMapGetter,
} from '@opentelemetry/api';
import { context as otelContext, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context } from 'hono';
import { errorTypeOf } from '../core/errors.ts';
import { getInstruments } from '../telemetry/instruments.ts';
import { routeLabel } from '../telemetry/labels.ts';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  ATTR_USER_AGENT_ORIGINAL,
} from '../telemetry/semconv.ts';
import { requestHeader } from './headers.ts';

/** W3C trace context (`traceparent`, `tracestate`, `baggage`) read from the request's headers. */
const headerGetter: TextMapGetter<Context> = {
  get: (c, key) => requestHeader(c, key),
  keys: (c) => Object.keys(c.req.header()),
};

/** Where a request span starts, and whether it is the process's HTTP SERVER span. */
export interface RequestSpanPlace {
  readonly parent: OtelContext;
  readonly kind: SpanKind;
}

/**
 * Inside an app's own HTTP instrumentation (a span is active), the request span is an INTERNAL child of
 * it: no second SERVER span, and that instrumentation records the HTTP metrics. Otherwise this is the
 * process's entry point: a SERVER span whose parent is the caller's W3C trace context, so the trace
 * runs on from the caller's span (and `tracestate` with it).
 */
export function requestSpanPlace(c: Context): RequestSpanPlace {
  const active = otelContext.active();
  if (trace.getSpan(active)) return { parent: active, kind: SpanKind.INTERNAL };
  return { parent: propagation.extract(active, c, headerGetter), kind: SpanKind.SERVER };
}

/** `host[:port]` / `[v6]:port` of a Host header. */
function hostAndPort(host: string): { address: string; port?: number } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host);
  if (!match) return { address: host };
  const port = match[2] === undefined ? undefined : Number(match[2]);
  return port === undefined ? { address: match[1]! } : { address: match[1]!, port };
}

/** The scheme the caller used: a proxy's `X-Forwarded-Proto`, else the request URL's. */
function schemeOf(c: Context): string {
  // Only the two values: the header is the caller's to set, and the scheme is a metric label.
  const forwarded = requestHeader(c, 'x-forwarded-proto')?.split(',')[0]?.trim().toLowerCase();
  if (forwarded === 'https' || forwarded === 'http') return forwarded;
  return c.req.url.startsWith('https:') ? 'https' : 'http';
}

/**
 * Attributes of the request span. A SERVER span gets what HTTP server semconv requires and
 * recommends (`url.path`, `url.scheme`, `server.address`/`server.port` from `Host`,
 * `user_agent.original`); an INTERNAL one only the method and route (its parent has the rest).
 */
export function requestSpanAttributes(c: Context, route: string, kind: SpanKind): Attributes {
  const attributes: Attributes = { [ATTR_HTTP_REQUEST_METHOD]: c.req.method, [ATTR_HTTP_ROUTE]: route };
  if (kind !== SpanKind.SERVER) return attributes;
  const scheme = schemeOf(c);
  attributes[ATTR_URL_PATH] = c.req.path;
  attributes[ATTR_URL_SCHEME] = scheme;
  const host =
    requestHeader(c, 'x-forwarded-host')?.split(',')[0]?.trim() ??
    requestHeader(c, 'host') ??
    URL.parse(c.req.url)?.host;
  if (host) {
    const { address, port } = hostAndPort(host);
    attributes[ATTR_SERVER_ADDRESS] = address;
    attributes[ATTR_SERVER_PORT] = port ?? (scheme === 'https' ? 443 : 80);
  }
  const userAgent = requestHeader(c, 'user-agent');
  if (userAgent) attributes[ATTR_USER_AGENT_ORIGINAL] = userAgent;
  return attributes;
}

/**
 * Ends the request span with its status, and for a SERVER span records `http.server.request.duration`.
 * Status follows HTTP server semconv: ERROR for 5xx, and for a failure after a 2xx was sent (a stream
 * that broke); left unset for 4xx, which is the caller's answer, not our failure. `error.type` goes
 * with ERROR only.
 */
export function requestSpanEnder(
  span: Span,
  c: Context,
  route: string,
  kind: SpanKind,
  meterProvider?: MeterProvider,
) {
  const startedAt = performance.now();
  const record = kind === SpanKind.SERVER ? getInstruments(meterProvider).httpServerDuration : undefined;
  const method = c.req.method;
  const scheme = record ? schemeOf(c) : '';
  return function endRequestSpan(status: number, error?: unknown): void {
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
    const failed = status >= 500 || (error !== undefined && status < 400);
    const errorType = failed ? (error === undefined ? String(status) : errorTypeOf(error)) : undefined;
    if (errorType !== undefined) {
      span.setAttribute(ATTR_ERROR_TYPE, errorType);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
    if (!record) return;
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: method,
      [ATTR_URL_SCHEME]: scheme,
      [ATTR_HTTP_ROUTE]: routeLabel.get(route),
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: status,
    };
    if (errorType !== undefined) attributes[ATTR_ERROR_TYPE] = errorType;
    record.record((performance.now() - startedAt) / 1000, attributes);
  };
}
