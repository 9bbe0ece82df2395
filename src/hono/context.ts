import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import {
  context as otelContext,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { CallContext, Operation } from '../core/context.ts';
import { createCallContext, parseCacheControl } from '../core/context.ts';
import { AuthenticationError, BadRequestError, errorTypeOf, isAlchemistError } from '../core/errors.ts';
import type { Identity } from '../core/identity.ts';
import { bearerToken, tenantForKey } from '../core/identity.ts';
import { trackRequest } from '../telemetry/request.ts';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_TENANT,
  ATTR_TIER,
} from '../telemetry/semconv.ts';
import { getTracer } from '../telemetry/spans.ts';
import { requestJson } from './body.ts';
import { requestHeader } from './headers.ts';
import { resultFromResponse, setResult } from './result.ts';

/** Context variables the alchemist middleware share (typed for `c.get`). */
export interface AlchemistVariables {
  alchemist: CallContext;
}
export type AlchemistEnv = { Variables: AlchemistVariables };

export interface AiContextOptions {
  /**
   * Map a request to its tenant and tier. Return undefined to reject with 401.
   * @default bearer key → `key-<sha256 prefix>` tenant (or `anonymous`), tier `defaultTier`
   */
  identify?: (c: Context) => Identity | undefined | Promise<Identity | undefined>;
  /** Tier for callers the default `identify` sees. @default 'default' */
  defaultTier?: string;
  /** Provider (gen_ai.provider.name) serving a model. @default () => 'openai' */
  resolveProvider?: (model: string) => string;
  /** GenAI operation of the route. @default 'chat' */
  operation?: Operation;
  tracerProvider?: TracerProvider;
  meterProvider?: MeterProvider;
}

const defaultIdentify =
  (tier: string) =>
  (c: Context): Identity => {
    const key = bearerToken(requestHeader(c, 'authorization')) ?? requestHeader(c, 'x-api-key');
    return { tenant: key ? tenantForKey(key) : 'anonymous', tier };
  };

/**
 * `traceparent` of the request span on the response (the W3C Trace Context "traceresponse" shape), so
 * a client can jump from a slow answer to its trace in Jaeger. Empty when the call is not traced.
 */
function traceResponseHeaders(span: Span): Record<string, string> {
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!trace.isSpanContextValid(span.spanContext())) return {};
  return { traceparent: `00-${traceId}-${spanId}-${traceFlags & TraceFlags.SAMPLED ? '01' : '00'}` };
}

/** The route of the handler that will answer (middleware see their own `/v1/*` pattern otherwise). */
function handlerRoute(c: Context): string {
  const routes = matchedRoutes(c);
  return (routes.findLast((route) => route.method !== 'ALL') ?? routes.at(-1))?.path ?? c.req.path;
}

async function readRequest(c: Context): Promise<Record<string, unknown>> {
  let body: unknown;
  try {
    body = await requestJson(c);
  } catch {
    throw new BadRequestError('Request body is not valid JSON', 'invalid_json');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError('Request body must be a JSON object', 'invalid_body');
  }
  const request = body as Record<string, unknown>;
  if (typeof request.model !== 'string' || request.model.trim() === '') {
    throw new BadRequestError("'model' is required and must be a non-empty string", 'missing_model');
  }
  if (request.stream !== undefined && typeof request.stream !== 'boolean') {
    throw new BadRequestError("'stream' must be a boolean", 'invalid_stream');
  }
  return request;
}

/**
 * Creates the call context every alchemist middleware reads: parses and validates the JSON body,
 * identifies the tenant and tier, opens the request span, and records `alchemist.request.duration`.
 * Use it once, before the other alchemist middleware; they create a default one if it is missing.
 *
 * @param [options.identify] map a request to `{ tenant, tier }`
 * @param [options.resolveProvider=() => 'openai'] provider name for a model
 * @example
 * app.use('/v1/*', aiContext({ resolveProvider: (m) => (m.startsWith('claude') ? 'anthropic' : 'openai') }));
 */
export function aiContext(options: AiContextOptions = {}): MiddlewareHandler {
  const identify = options.identify ?? defaultIdentify(options.defaultTier ?? 'default');
  const resolveProvider = options.resolveProvider ?? (() => 'openai');
  const operation = options.operation ?? 'chat';
  const tracer = getTracer(options.tracerProvider);

  return async function aiContext(c, next) {
    if (c.get('alchemist')) return next();
    // Who is calling comes first: an unknown key gets 401 whatever its body holds.
    const identity = await identify(c);
    if (!identity) throw new AuthenticationError();
    const route = handlerRoute(c);
    let request: Record<string, unknown>;
    try {
      request = await readRequest(c);
    } catch (error) {
      // A body rejected before it names a model still counts as a request (a client error) in
      // `alchemist.request.duration`, which /admin/stats and the dashboards read.
      const rejected = createCallContext({ provider: 'none', model: 'none', operation, route, request: {} });
      trackRequest(rejected, options.meterProvider).fail(error);
      throw error;
    }
    const model = request.model as string;
    const provider = resolveProvider(model);
    const parent = otelContext.active();
    // Entry point of the process (no parent span): a SERVER span; nested in the app's own HTTP span: INTERNAL.
    const kind = trace.getSpan(parent) ? SpanKind.INTERNAL : SpanKind.SERVER;
    const span = tracer.startSpan(
      `${c.req.method} ${route}`,
      {
        kind,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: c.req.method,
          [ATTR_HTTP_ROUTE]: route,
          [ATTR_GEN_AI_OPERATION_NAME]: operation,
          [ATTR_GEN_AI_REQUEST_MODEL]: model,
          [ATTR_GEN_AI_PROVIDER_NAME]: provider,
          [ATTR_TENANT]: identity.tenant,
          [ATTR_TIER]: identity.tier,
        },
      },
      parent,
    );
    const ctx = createCallContext({
      provider,
      model,
      operation,
      tenant: identity.tenant,
      tier: identity.tier,
      request,
      signal: () => c.req.raw.signal,
      span,
      route,
      cacheControl: parseCacheControl(requestHeader(c, 'cache-control')),
    });
    c.set('alchemist', ctx);
    const tracked = trackRequest(ctx, options.meterProvider);
    const endSpan = (status: number, error?: unknown) => {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (error !== undefined || status >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, error === undefined ? String(status) : errorTypeOf(error));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    };
    const traceHeaders = traceResponseHeaders(span);
    try {
      await otelContext.with(trace.setSpan(parent, span), () => next());
      if (c.error) throw c.error;
      const result = tracked.succeed(await resultFromResponse(c.res));
      if (result.kind === 'stream') {
        // The request span covers the whole stream: end it when the stream ends.
        setResult(
          c,
          {
            ...result,
            chunks: (async function* () {
              let failure: unknown;
              try {
                yield* result.chunks;
              } catch (error) {
                failure = error;
                throw error;
              } finally {
                endSpan(result.status, failure);
              }
            })(),
          },
          traceHeaders,
        );
      } else {
        setResult(c, result, traceHeaders);
        endSpan(result.status);
      }
    } catch (error) {
      tracked.fail(error);
      if (isAlchemistError(error)) Object.assign(error.headers, traceHeaders);
      endSpan(isAlchemistError(error) ? error.status : 500, error);
      throw error;
    }
  };
}

/**
 * The call context of this request. Without `aiContext()` in front, one is created with its defaults
 * (no request span of its own: decisions go on the active span, if any).
 */
export async function callContextOf(c: Context): Promise<CallContext> {
  const existing = c.get('alchemist') as CallContext | undefined;
  if (existing) return existing;
  const request = await readRequest(c);
  const identity = defaultIdentify('default')(c);
  const model = request.model as string;
  const span = trace.getActiveSpan();
  const ctx = createCallContext({
    provider: 'openai',
    model,
    tenant: identity.tenant,
    tier: identity.tier,
    request,
    signal: () => c.req.raw.signal,
    ...(span ? { span } : {}),
    route: handlerRoute(c),
    cacheControl: parseCacheControl(requestHeader(c, 'cache-control')),
  });
  c.set('alchemist', ctx);
  return ctx;
}
