import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import {
  type Context as OtelContext,
  context as otelContext,
  type Span,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { CallContext, Operation } from '../core/context.ts';
import { createCallContext, parseCacheControl } from '../core/context.ts';
import { AuthenticationError, BadRequestError, isAlchemistError, renderErrorsAs } from '../core/errors.ts';
import type { Identity } from '../core/identity.ts';
import { requestCredential, tenantForKey } from '../core/identity.ts';
import { RequestPipeline } from '../core/pipeline.ts';
import { recordRejectedRequest } from '../telemetry/request.ts';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_PROVIDER,
  ATTR_TENANT,
  ATTR_TIER,
} from '../telemetry/semconv.ts';
import { getTracer } from '../telemetry/spans.ts';
import type { WireFormat } from '../wire/types.ts';
import { requestJson } from './body.ts';
import { requestHeader } from './headers.ts';
import { pipelineOf, setPipeline } from './pipeline.ts';
import { finishWithResponse } from './respond.ts';
import { requestSpanAttributes, requestSpanEnder, requestSpanPlace } from './server-span.ts';

/** Context variables the alchemist middleware share (typed for `c.get`). */
export interface AlchemistVariables {
  alchemist: CallContext;
}
export type AlchemistEnv = { Variables: AlchemistVariables };

export interface AiContextOptions {
  /**
   * Map a request to its tenant and tier. Return undefined to reject with 401.
   * @default the request's credential (bearer token, other `Authorization` value, `x-api-key`,
   * `api-key`) → `key-<sha256 prefix>` tenant (`anonymous` without one), tier `defaultTier`
   */
  identify?: (c: Context) => Identity | undefined | Promise<Identity | undefined>;
  /** Tier for callers the default `identify` sees. @default 'default' */
  defaultTier?: string;
  /** Provider serving a model, by its configured name. @default () => 'openai' */
  resolveProvider?: (model: string) => string;
  /**
   * The well-known `gen_ai.provider.name` of a provider (`openai`, `anthropic`, ...), when names are
   * your own (`my-vllm` → `openai`). @default the name itself
   */
  genAiProvider?: (provider: string) => string;
  /** GenAI operation of the route. @default the wire format's, else 'chat' */
  operation?: Operation;
  /**
   * The API the route speaks (`wireFormat('openai.embeddings')`...): where usage, finish reasons and
   * the cache-relevant fields are. @default the operation's usual API (chat completions for `chat`)
   */
  wire?: WireFormat;
  /**
   * Request headers (lowercase names) the provider call should get as the client sent them, e.g.
   * `['anthropic-version', 'anthropic-beta']`: they are in the call context's `forwardHeaders`.
   * @default none
   */
  forwardHeaders?: readonly string[];
  /**
   * Checks of the parsed body beyond a JSON object with a `model` (e.g. the gateway's nesting and
   * `messages` checks): throw a `BadRequestError` to answer 400. Runs inside the request span.
   * @default none
   */
  validate?: (request: Record<string, unknown>) => void;
  tracerProvider?: TracerProvider;
  meterProvider?: MeterProvider;
}

const defaultIdentify =
  (tier: string) =>
  (c: Context): Identity => {
    const key = requestCredential((name) => requestHeader(c, name));
    return { tenant: key ? tenantForKey(key) : 'anonymous', tier };
  };

/**
 * `traceparent` of the request span on the response (the W3C Trace Context "traceresponse" shape), so
 * a client can jump from a slow answer to its trace in Jaeger. Empty when the call is not traced.
 */
function traceResponseHeaders(span: Span, parent: OtelContext): Record<string, string> {
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!trace.isSpanContextValid(span.spanContext())) return {};
  // Without a tracer the "span" is the caller's own context passed through: it names no span of ours.
  if (spanId === trace.getSpanContext(parent)?.spanId) return {};
  return { traceparent: `00-${traceId}-${spanId}-${traceFlags & TraceFlags.SAMPLED ? '01' : '00'}` };
}

/** The route of the handler that will answer (middleware see their own `/v1/*` pattern otherwise). */
function handlerRoute(c: Context): string {
  const routes = matchedRoutes(c);
  return (routes.findLast((route) => route.method !== 'ALL') ?? routes.at(-1))?.path ?? c.req.path;
}

/** The request's values of `names`, those it sent. */
function headersNamed(c: Context, names: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = requestHeader(c, name);
    if (value) headers[name] = value;
  }
  return headers;
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
  const genAiProvider = options.genAiProvider ?? ((provider: string) => provider);
  const operation = options.operation ?? options.wire?.operation ?? 'chat';
  const tracer = getTracer(options.tracerProvider);

  return async function aiContext(c, next) {
    if (pipelineOf(c)) return next();
    const startedAt = performance.now();
    const route = handlerRoute(c);
    // The span opens first, so a 401 or 400 is traced and counted like every other answer.
    const { parent, kind } = requestSpanPlace(c);
    const span = tracer.startSpan(
      `${c.req.method} ${route}`,
      { kind, attributes: requestSpanAttributes(c, route, kind) },
      parent,
    );
    const endSpan = requestSpanEnder(span, c, route, kind, options.meterProvider);
    let request: Record<string, unknown> | undefined;
    let identity: Identity | undefined;
    try {
      // Who is calling comes first: an unknown key gets 401 whatever its body holds.
      identity = await identify(c);
      if (!identity) throw new AuthenticationError();
      request = await readRequest(c);
      options.validate?.(request);
    } catch (error) {
      const model = typeof request?.model === 'string' ? request.model : undefined;
      recordRejectedRequest(
        startedAt,
        model,
        model === undefined ? undefined : genAiProvider(resolveProvider(model)),
        options.meterProvider,
      );
      endSpan(isAlchemistError(error) ? error.status : 500, error);
      if (options.wire) renderErrorsAs(error, options.wire.errorBody);
      throw error;
    }
    const model = request.model as string;
    const provider = resolveProvider(model);
    const system = genAiProvider(provider);
    span.setAttributes({
      [ATTR_GEN_AI_OPERATION_NAME]: operation,
      [ATTR_GEN_AI_REQUEST_MODEL]: model,
      [ATTR_GEN_AI_PROVIDER_NAME]: system,
      [ATTR_PROVIDER]: provider,
      [ATTR_TENANT]: identity.tenant,
      [ATTR_TIER]: identity.tier,
    });
    const ctx = createCallContext({
      provider,
      genAiProvider: system,
      model,
      operation,
      ...(options.wire ? { wire: options.wire } : {}),
      tenant: identity.tenant,
      tier: identity.tier,
      request,
      signal: () => c.req.raw.signal,
      span,
      route,
      cacheControl: parseCacheControl(requestHeader(c, 'cache-control')),
      ...(options.forwardHeaders ? { forwardHeaders: headersNamed(c, options.forwardHeaders) } : {}),
    });
    const pipeline = new RequestPipeline({
      ctx,
      end: endSpan,
      headers: traceResponseHeaders(span, parent),
      ...(options.meterProvider ? { meterProvider: options.meterProvider } : {}),
    });
    setPipeline(c, pipeline);
    try {
      await otelContext.with(trace.setSpan(parent, span), () => next());
    } catch (error) {
      pipeline.fail(error);
      throw error;
    }
    if (c.error) {
      // Rendered by Hono's error handler already; with our headers when the pipeline ended with it.
      if (pipeline.failure === c.error) return;
      pipeline.fail(c.error);
      throw c.error;
    }
    // A handler of your own answered without the pipeline: end the request with its response.
    if (!pipeline.ended) c.res = finishWithResponse(pipeline, c.res);
  };
}

/**
 * The pipeline of this request. Without `aiContext()` in front, one is opened with its defaults (no
 * request span or request metrics of its own: decisions go on the active span, if any).
 */
export async function requestPipeline(c: Context): Promise<RequestPipeline> {
  const existing = pipelineOf(c);
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
  const pipeline = new RequestPipeline({ ctx, metrics: false });
  setPipeline(c, pipeline);
  return pipeline;
}

/** The call context of this request (see `requestPipeline`). */
export async function callContextOf(c: Context): Promise<CallContext> {
  return (await requestPipeline(c)).ctx;
}
