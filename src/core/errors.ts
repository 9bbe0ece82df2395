import { redactText } from './redact.ts';

/**
 * One small error class per failure, each branded so `isXxxError()` works across two copies of the
 * package, each mapping to one HTTP status and an OpenAI-style body. `getResponse()` makes them render
 * themselves through Hono's default error handler (its `HTTPResponseError` contract).
 */

/** OpenAI error `type` values we emit. */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'rate_limit_error'
  | 'insufficient_quota'
  | 'service_unavailable'
  | 'timeout_error'
  | 'upstream_error'
  | 'server_error';

export interface ErrorBody {
  error: { message: string; type: ErrorType; code: string };
}

export interface ErrorOptions {
  cause?: unknown;
  /** Seconds the client should wait before retrying (sent as `Retry-After`). */
  retryAfter?: number;
  /** Extra response headers, e.g. RateLimit-Policy / RateLimit. */
  headers?: Record<string, string>;
}

const BRAND = Symbol.for('alchemist-perf.error');
/** How the route that failed shapes its errors, when not OpenAI's way (set by `renderErrorsAs`). */
const BODY_SHAPE = Symbol.for('alchemist-perf.error-shape');

type BodyShape = (body: ErrorBody) => unknown;

export class AlchemistError extends Error {
  readonly [BRAND] = true;
  [BODY_SHAPE]: BodyShape | undefined;
  readonly status: number;
  readonly type: ErrorType;
  readonly code: string;
  readonly retryAfter: number | undefined;
  readonly headers: Record<string, string>;

  constructor(message: string, status: number, type: ErrorType, code: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.type = type;
    this.code = code;
    this.retryAfter =
      options.retryAfter === undefined ? undefined : Math.max(0, Math.ceil(options.retryAfter));
    this.headers = { ...options.headers };
  }

  /** The body clients see: never the cause, never a stack, never a secret (see `redactText`). */
  toBody(): ErrorBody {
    return { error: { message: redactText(this.message), type: this.type, code: this.code } };
  }

  /**
   * Response headers, with `Retry-After` (RFC 9110 §10.2.3, delay-seconds) when known, and 1 s on a
   * 429 or 503 that came without one (a provider 429 without the header): clients always get one.
   */
  responseHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...this.headers };
    if (this.retryAfter !== undefined) headers['retry-after'] = String(this.retryAfter);
    else if (this.status === 429 || this.status === 503) headers['retry-after'] = '1';
    return headers;
  }

  getResponse(): Response {
    const body = this.toBody();
    return new Response(JSON.stringify(this[BODY_SHAPE] ? this[BODY_SHAPE](body) : body), {
      status: this.status,
      headers: this.responseHeaders(),
    });
  }
}

function branded<T extends AlchemistError>(name: string) {
  const tag = Symbol.for(`alchemist-perf.${name}`);
  return {
    tag,
    is: (value: unknown): value is T =>
      typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[tag] === true,
  };
}

export function isAlchemistError(value: unknown): value is AlchemistError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

const badRequest = branded<BadRequestError>('BadRequestError');
/** 400: the caller's request is malformed (bad JSON, missing model, invalid field). */
export class BadRequestError extends AlchemistError {
  readonly [badRequest.tag] = true;
  constructor(message: string, code = 'invalid_request', options?: ErrorOptions) {
    super(message, 400, 'invalid_request_error', code, options);
  }
}
export const isBadRequestError = badRequest.is;

const unauthorized = branded<AuthenticationError>('AuthenticationError');
/** 401: missing or unknown API key. */
export class AuthenticationError extends AlchemistError {
  readonly [unauthorized.tag] = true;
  constructor(message = 'Invalid or missing API key', options?: ErrorOptions) {
    super(message, 401, 'authentication_error', 'invalid_api_key', options);
  }
}
export const isAuthenticationError = unauthorized.is;

const tooLarge = branded<PayloadTooLargeError>('PayloadTooLargeError');
/** 413: the request body is over the configured limit. */
export class PayloadTooLargeError extends AlchemistError {
  readonly [tooLarge.tag] = true;
  constructor(limitBytes: number, options?: ErrorOptions) {
    super(
      `Request body exceeds ${limitBytes} bytes`,
      413,
      'invalid_request_error',
      'payload_too_large',
      options,
    );
  }
}
export const isPayloadTooLargeError = tooLarge.is;

/** Which limiter said no. */
export type RateLimitScope = 'tier' | 'model' | 'concurrency';

const rateLimited = branded<RateLimitedError>('RateLimitedError');
/** 429: the caller is over its tier's limit; `retryAfter` says when capacity returns. */
export class RateLimitedError extends AlchemistError {
  readonly [rateLimited.tag] = true;
  readonly scope: RateLimitScope;
  constructor(message: string, scope: RateLimitScope, options?: ErrorOptions) {
    super(message, 429, 'rate_limit_error', `rate_limited_${scope}`, options);
    this.scope = scope;
  }
}
export const isRateLimitedError = rateLimited.is;

const budgetExceeded = branded<BudgetExceededError>('BudgetExceededError');
/**
 * 429: the caller's spend budget for this period is used up; `retryAfter` = seconds until the period
 * ends. Type `insufficient_quota` as OpenAI answers an exhausted quota, so SDKs treat it as such.
 */
export class BudgetExceededError extends AlchemistError {
  readonly [budgetExceeded.tag] = true;
  constructor(message: string, options?: ErrorOptions) {
    super(message, 429, 'insufficient_quota', 'budget_exceeded', options);
  }
}
export const isBudgetExceededError = budgetExceeded.is;

const overloaded = branded<OverloadedError>('OverloadedError');
/** 503: an outbound queue or bulkhead is full; the call was not sent to the provider. */
export class OverloadedError extends AlchemistError {
  readonly [overloaded.tag] = true;
  constructor(message: string, options?: ErrorOptions) {
    super(message, 503, 'service_unavailable', 'upstream_capacity', options);
  }
}
export const isOverloadedError = overloaded.is;

const circuitOpen = branded<CircuitOpenError>('CircuitOpenError');
/** 503: the breaker for this provider/model is open; `retryAfter` = seconds until half-open. */
export class CircuitOpenError extends AlchemistError {
  readonly [circuitOpen.tag] = true;
  readonly breaker: string;
  constructor(breaker: string, options?: ErrorOptions) {
    super(`Circuit breaker '${breaker}' is open`, 503, 'service_unavailable', 'circuit_open', options);
    this.breaker = breaker;
  }
}
export const isCircuitOpenError = circuitOpen.is;

/** Which deadline fired. */
export type TimeoutKind = 'total' | 'first_chunk' | 'idle';

const timedOut = branded<UpstreamTimeoutError>('UpstreamTimeoutError');
/** 504: the upstream did not answer (or stream) in time. */
export class UpstreamTimeoutError extends AlchemistError {
  readonly [timedOut.tag] = true;
  readonly kind: TimeoutKind;
  constructor(kind: TimeoutKind, afterMs: number, options?: ErrorOptions) {
    super(
      `Upstream ${kind.replace('_', ' ')} timeout after ${afterMs} ms`,
      504,
      'timeout_error',
      `timeout_${kind}`,
      options,
    );
    this.kind = kind;
  }
}
export const isUpstreamTimeoutError = timedOut.is;

const upstream = branded<UpstreamError>('UpstreamError');

/** The provider refused the gateway's own credentials: a configuration fault, not the client's. */
function isProviderAuthFailure(upstreamStatus: number): boolean {
  return upstreamStatus === 401 || upstreamStatus === 403;
}

/**
 * The upstream answered with an error or an unusable reply. Client errors (4xx) pass through with
 * their status; 429 stays 429 with the provider's Retry-After; the provider refusing our own key
 * (401/403) is 502 `upstream_auth` (a 401 would tell the client its key is wrong); 5xx and malformed
 * replies become 502. The message is scrubbed of secrets here, as providers echo the key they got.
 */
export class UpstreamError extends AlchemistError {
  readonly [upstream.tag] = true;
  /** The status the provider sent (0 when the connection failed or the reply was malformed). */
  readonly upstreamStatus: number;
  constructor(message: string, upstreamStatus: number, options?: ErrorOptions) {
    const passThrough =
      upstreamStatus >= 400 && upstreamStatus < 500 && !isProviderAuthFailure(upstreamStatus);
    const status = passThrough ? upstreamStatus : 502;
    const type: ErrorType =
      status === 429 ? 'rate_limit_error' : status === 502 ? 'upstream_error' : 'invalid_request_error';
    const code = isProviderAuthFailure(upstreamStatus)
      ? 'upstream_auth'
      : status === 502
        ? 'bad_upstream_response'
        : `upstream_${upstreamStatus}`;
    super(redactText(message), status, type, code, options);
    this.upstreamStatus = upstreamStatus;
  }
}
export const isUpstreamError = upstream.is;

/**
 * A caller's own copy of an error that several callers receive (a coalesced flight's failure, a shared
 * stream's): same class, brand, message, cause and stack, but its own `headers`, because each caller's
 * layers add their own (traceparent, RateLimit) and must never write into another caller's answer.
 */
export function ownCopy<T>(error: T): T {
  // Only our errors carry headers; others (DOMException, SDK errors) may hold internal slots a copy lacks.
  if (!isAlchemistError(error)) return error;
  const copy = Object.create(Object.getPrototypeOf(error), Object.getOwnPropertyDescriptors(error)) as T;
  // V8's `stack` is an accessor over the original's internal slot: copy its value instead.
  Object.defineProperty(copy, 'stack', { value: error.stack, writable: true, configurable: true });
  Object.defineProperty(copy, 'headers', { value: { ...error.headers } });
  return copy;
}

/**
 * Map anything thrown to a status and an OpenAI-style body. Unknown errors become a generic 500 whose
 * message reveals nothing internal.
 */
export function toErrorResponse(error: unknown): {
  status: number;
  headers: Record<string, string>;
  body: ErrorBody;
} {
  if (isAlchemistError(error)) {
    return { status: error.status, headers: error.responseHeaders(), body: error.toBody() };
  }
  return {
    status: 500,
    headers: { 'content-type': 'application/json' },
    body: { error: { message: 'Internal error', type: 'server_error', code: 'internal_error' } },
  };
}

/**
 * Render `error` (when it is the pack's) in a route's own error shape, e.g. Anthropic's
 * `{"type":"error","error":{"type","message"}}` on `/v1/messages`: the request pipeline does this
 * with its wire format's `errorBody` for every error of the request.
 */
export function renderErrorsAs(error: unknown, shape: BodyShape): void {
  if (isAlchemistError(error)) error[BODY_SHAPE] = shape;
}

/** `error.type` for spans and logs: the error class or code, never a message (semconv error guidance). */
export function errorTypeOf(error: unknown): string {
  if (isUpstreamError(error)) return error.upstreamStatus ? String(error.upstreamStatus) : error.code;
  if (isAlchemistError(error)) return error.code;
  if (error instanceof Error) return error.name === 'Error' ? '_OTHER' : error.name;
  return '_OTHER';
}
