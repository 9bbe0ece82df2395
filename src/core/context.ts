import type { Span } from '@opentelemetry/api';
import { INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import { defaultWireFormat } from '../wire/index.ts';
import type { WireFormat } from '../wire/types.ts';
import type { TokenUsage } from './result.ts';

/** GenAI operation names (gen_ai.operation.name, semconv v1.41.0). */
export type Operation = 'chat' | 'text_completion' | 'embeddings' | 'generate_content';

/** Request-side `Cache-Control` directives that the cache policy honours. */
export interface RequestCacheControl {
  /** `no-cache`: skip the lookup, call upstream, store the fresh answer. */
  readonly noCache: boolean;
  /** `no-store`: neither read nor write the cache. */
  readonly noStore: boolean;
  /** `max-age=N`: TTL in seconds for the stored answer, and the oldest entry acceptable. */
  readonly maxAge?: number;
}

/** One `Server-Timing` metric (W3C Server Timing): name, duration in ms, description. */
export interface ServerTimingEntry {
  readonly name: string;
  readonly durationMs: number;
  readonly description?: string;
}

/** A header set a policy wants on the response (e.g. RateLimit-Policy / RateLimit / Retry-After). */
export type ResponseHeaders = Record<string, string>;

/**
 * What the policies decided for one call. Skins turn it into response headers; the admin summary and
 * spans read it too. Policies write their own field and nothing else.
 */
export interface Decisions {
  /** RFC 9211 `Cache-Status` parameters, set by the cache policy. */
  cacheStatus?: string;
  /** The cache outcome, for `alchemist.request.duration`'s `alchemist.cache.result`. */
  cacheResult?: string;
  /** Headers from the rate limiters, merged in order. */
  readonly headers: ResponseHeaders;
  readonly serverTiming: ServerTimingEntry[];
  /** Upstream attempts made (0 on a cache hit). */
  upstreamAttempts: number;
  /** The model that actually served the call, when a fallback answered. */
  fallbackModel?: string;
  /** Actual token usage reported by the upstream. */
  usage?: TokenUsage;
  /** The id the answer carries as `x-request-id`: the provider's, else the gateway's own. */
  requestId?: string;
}

/**
 * Everything a policy needs to know about one AI call. Created once per call by a skin (the Hono
 * `aiContext()` middleware or a wrapper) and passed to every policy in the chain.
 */
export interface CallContext {
  /** The provider serving the call, as configured (breakers and routing use it): `openai`, `my-vllm`... */
  readonly provider: string;
  /**
   * The provider's well-known `gen_ai.provider.name` value (`openai`, `anthropic`, ...), which telemetry
   * records; `provider` goes on spans as `alchemist.provider`. Defaults to `provider`.
   */
  readonly genAiProvider: string;
  /** The requested model (gen_ai.request.model). */
  readonly model: string;
  readonly operation: Operation;
  /** The API's wire format: where its usage, finish reasons and cache-relevant fields are. */
  readonly wire: WireFormat;
  /** Isolation scope for cache entries and per-caller limits. Never a raw API key. */
  readonly tenant: string;
  /** Rate-limit tier of the caller. */
  readonly tier: string;
  /** The request body in its canonical (OpenAI chat) shape; keys and token estimates derive from it. */
  readonly request: Readonly<Record<string, unknown>>;
  readonly stream: boolean;
  /** Aborts when the caller goes away or a deadline passes; policies pass it on and honour it. */
  readonly signal: AbortSignal;
  /** The request span: decisions go on it as attributes and events. Non-recording when untraced. */
  readonly span: Span;
  /** Low-cardinality route label for metrics (http.route or the wrapper's name). */
  readonly route: string;
  readonly cacheControl: RequestCacheControl;
  /** Client request headers a provider call passes on (those `aiContext({ forwardHeaders })` names). */
  readonly forwardHeaders: Readonly<Record<string, string>>;
  readonly decisions: Decisions;
}

export interface CallContextInit {
  provider: string;
  /** @default provider */
  genAiProvider?: string;
  model: string;
  operation?: Operation;
  /** @default the operation's usual API (OpenAI chat completions for `chat`) */
  wire?: WireFormat;
  tenant?: string;
  tier?: string;
  request?: Record<string, unknown>;
  stream?: boolean;
  /** A signal, or a function making it on first use (a request's signal costs an AbortController). */
  signal?: AbortSignal | (() => AbortSignal);
  span?: Span;
  route?: string;
  cacheControl?: Partial<RequestCacheControl>;
  forwardHeaders?: Readonly<Record<string, string>>;
}

const NO_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const NEVER_ABORTED = new AbortController().signal;

/** Build a call context with safe defaults (tenant `default`, tier `default`, no span). */
export function createCallContext(init: CallContextInit): CallContext {
  const request = init.request ?? {};
  const { signal } = init;
  const operation = init.operation ?? init.wire?.operation ?? 'chat';
  const ctx: CallContext = {
    provider: init.provider,
    genAiProvider: init.genAiProvider ?? init.provider,
    model: init.model,
    operation,
    wire: init.wire ?? defaultWireFormat(operation),
    tenant: init.tenant ?? 'default',
    tier: init.tier ?? 'default',
    request,
    stream: init.stream ?? request.stream === true,
    signal: typeof signal === 'object' ? signal : NEVER_ABORTED,
    span: init.span ?? NO_SPAN,
    route: init.route ?? 'default',
    cacheControl: { noCache: false, noStore: false, ...init.cacheControl },
    forwardHeaders: init.forwardHeaders ?? NO_HEADERS,
    decisions: { headers: {}, serverTiming: [], upstreamAttempts: 0 },
  };
  if (typeof signal === 'function') {
    // Made on first read: a cache hit or a rejection never needs one.
    let made: AbortSignal | undefined;
    Object.defineProperty(ctx, 'signal', { get: () => (made ??= signal()), enumerable: true });
  }
  return ctx;
}

/** Parse request `Cache-Control` (RFC 9111 §5.2.1) into the directives the cache honours. */
export function parseCacheControl(header: string | null | undefined): RequestCacheControl {
  if (!header) return { noCache: false, noStore: false };
  let noCache = false;
  let noStore = false;
  let maxAge: number | undefined;
  for (const part of header.split(',')) {
    const [rawName, rawValue] = part.trim().split('=', 2);
    const name = rawName?.toLowerCase();
    if (name === 'no-cache') noCache = true;
    else if (name === 'no-store') noStore = true;
    else if (name === 'max-age' && rawValue !== undefined) {
      const seconds = Number(rawValue.replace(/"/g, ''));
      if (Number.isInteger(seconds) && seconds >= 0) maxAge = seconds;
    }
  }
  return maxAge === undefined ? { noCache, noStore } : { noCache, noStore, maxAge };
}
