import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { context as otelContext, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Policy } from '../core/compose.ts';
import { compose } from '../core/compose.ts';
import type { CallContext, Operation, RequestCacheControl } from '../core/context.ts';
import { createCallContext } from '../core/context.ts';
import { errorTypeOf } from '../core/errors.ts';
import { RequestPipeline } from '../core/pipeline.ts';
import type { AiResult } from '../core/result.ts';
import { jsonResult, streamResult } from '../core/result.ts';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_TENANT,
  ATTR_TIER,
} from '../telemetry/semconv.ts';
import { getTracer } from '../telemetry/spans.ts';
import { traceUpstreamCall } from '../telemetry/upstream.ts';
import type { WireFormat } from '../wire/types.ts';

/** A request a wrapped function takes: at least a model (OpenAI chat shape is assumed for keys). */
export interface AiRequest {
  model: string;
  stream?: boolean | null;
  // No index signature: SDK parameter types are interfaces (OpenAI's ChatCompletionCreateParams...),
  // and an interface never satisfies one, so `withCache((req: SdkParams) => ...)` would not compile.
}

/** Per-call options a wrapped function accepts as its second argument. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Tenant for this call (overrides the wrapper's `tenant`). */
  tenant?: string;
  tier?: string;
  cacheControl?: Partial<RequestCacheControl>;
  /**
   * Receives the call context once it exists. Policies fill in `ctx.decisions` as they run, so after
   * the call it tells what happened (cache status, upstream attempts, usage).
   */
  onContext?: (ctx: CallContext) => void;
}

/** What a wrapped function receives besides the request. */
export interface UpstreamCallOptions<Opts extends CallOptions = CallOptions> {
  /** Aborts when the caller aborts or a policy's deadline passes: pass it to the SDK. */
  signal: AbortSignal;
  /** The context of this attempt (its `model` is the fallback model when a fallback answers). */
  ctx: CallContext;
  /** The per-call options the caller passed to the wrapped function. */
  callOptions: Opts;
}

export interface WrapOptions<Req extends AiRequest = AiRequest> {
  /** gen_ai.provider.name of the wrapped call. @default 'openai' */
  provider?: string | ((request: Req) => string);
  /** Tenant scope of calls (cache isolation, limits). @default 'default' */
  tenant?: string | ((request: Req) => string);
  /** Rate-limit tier. @default 'default' */
  tier?: string | ((request: Req) => string);
  operation?: Operation;
  /** The wrapped API's wire format (usage, finish reasons, cache fields). @default the operation's usual one */
  wire?: WireFormat;
  /** Route label on metrics. @default the wrapped function's name, or 'wrapped' */
  route?: string;
  /** server.address on upstream spans. */
  serverAddress?: string;
  tracerProvider?: TracerProvider;
  meterProvider?: MeterProvider;
}

function resolve<Req>(
  value: string | ((request: Req) => string) | undefined,
  request: Req,
  fallback: string,
) {
  return typeof value === 'function' ? value(request) : (value ?? fallback);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Marks a wrapped function with what it wraps, so wrapping it again composes instead of nesting. */
const WRAPPED = Symbol.for('alchemist-perf.wrapped');

interface WrappedParts {
  readonly fn: (request: never, options: never) => Promise<unknown>;
  readonly policies: readonly Policy<AiResult>[];
  readonly options: WrapOptions<never>;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)) as Partial<T>;
}

/**
 * Wrap an async function (an SDK call) in policies, outermost first. The wrapped function keeps its
 * signature: JSON answers come back as they were, streams (async iterables) stay streams. Each call
 * gets a request span and `alchemist.request.duration`; each run of `fn` a GenAI CLIENT span.
 * Wrapping an already wrapped function (`withCache(withBreaker(fn))`) composes: one wrapper around
 * `fn` with the outer policies first, so there is still one request span and one CLIENT span per
 * attempt; the outer wrapper's options win where both set one.
 *
 * @example
 * const create = wrapCall((req) => openai.chat.completions.create(req), [limiter, cache, breaker]);
 */
export function wrapCall<Req extends AiRequest, Res, Opts extends CallOptions = CallOptions>(
  fn: (request: Req, options: UpstreamCallOptions<Opts>) => Promise<Res>,
  policies: readonly Policy<AiResult>[],
  options: WrapOptions<Req> = {},
): (request: Req, callOptions?: Opts) => Promise<Res> {
  const inner = (fn as unknown as { [WRAPPED]?: WrappedParts })[WRAPPED];
  if (inner) {
    return wrapCall(inner.fn as unknown as typeof fn, [...policies, ...inner.policies], {
      ...inner.options,
      ...definedOnly(options),
    } as WrapOptions<Req>);
  }
  const chain = compose(...policies);
  const tracer = getTracer(options.tracerProvider);
  const route = options.route ?? (fn.name || 'wrapped');
  const operation = options.operation ?? 'chat';
  const upstreamTelemetry = {
    ...(options.serverAddress ? { serverAddress: options.serverAddress } : {}),
    ...(options.tracerProvider ? { tracerProvider: options.tracerProvider } : {}),
    ...(options.meterProvider ? { meterProvider: options.meterProvider } : {}),
  };

  const callUpstream = (ctx: CallContext, callOptions: Opts) =>
    traceUpstreamCall(ctx, upstreamTelemetry, async (attemptCtx) => {
      const request = { ...attemptCtx.request, model: attemptCtx.model } as unknown as Req;
      const value = await fn(request, { signal: attemptCtx.signal, ctx: attemptCtx, callOptions });
      return isAsyncIterable(value) ? streamResult(value) : jsonResult(value);
    });

  const parts: WrappedParts = {
    fn: fn as unknown as WrappedParts['fn'],
    policies,
    options: options as WrapOptions<never>,
  };
  return Object.defineProperty(wrapped, WRAPPED, { value: parts });

  async function wrapped(request: Req, callOptions: Opts = {} as Opts): Promise<Res> {
    const provider = resolve(options.provider, request, 'openai');
    const tenant = callOptions.tenant ?? resolve(options.tenant, request, 'default');
    const tier = callOptions.tier ?? resolve(options.tier, request, 'default');
    const parent = otelContext.active();
    const span = tracer.startSpan(
      `alchemist ${operation} ${request.model}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          [ATTR_GEN_AI_OPERATION_NAME]: operation,
          [ATTR_GEN_AI_REQUEST_MODEL]: request.model,
          [ATTR_GEN_AI_PROVIDER_NAME]: provider,
          [ATTR_TENANT]: tenant,
          [ATTR_TIER]: tier,
        },
      },
      parent,
    );
    const ctx = createCallContext({
      provider,
      model: request.model,
      operation,
      ...(options.wire ? { wire: options.wire } : {}),
      tenant,
      tier,
      request: request as unknown as Record<string, unknown>,
      stream: request.stream === true,
      ...(callOptions.signal ? { signal: callOptions.signal } : {}),
      span,
      route,
      ...(callOptions.cacheControl ? { cacheControl: callOptions.cacheControl } : {}),
    });
    if (callOptions.onContext) {
      try {
        callOptions.onContext(ctx);
      } catch {
        // A caller's observer must not break the call.
      }
    }
    const pipeline = new RequestPipeline({
      ctx,
      end: (_status, error) => {
        if (error !== undefined) {
          span.setAttribute(ATTR_ERROR_TYPE, errorTypeOf(error));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      },
      ...(options.meterProvider ? { meterProvider: options.meterProvider } : {}),
    });
    const result = await otelContext.with(trace.setSpan(parent, span), () =>
      pipeline.run((current) => callUpstream(current, callOptions), chain),
    );
    // The pipeline ends the span: now for JSON, when the stream ends for a stream.
    return (result.kind === 'json' ? result.body : result.chunks) as Res;
  }
}
