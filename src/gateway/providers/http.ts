import { context, propagation } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { Pool } from 'undici';
import { UpstreamError, UpstreamTimeoutError } from '../../core/errors.ts';
import { redactExcerpt } from '../../core/redact.ts';
import { parseSse, type SseEvent } from '../../core/sse.ts';
import { retryAfterSeconds } from '../../wire/http.ts';

export interface PoolOptions {
  /** Keep-alive connections to the origin. */
  connections: number;
  /** Send the active W3C trace context (`traceparent`, `tracestate`) with each request. @default true */
  propagate?: boolean;
  /** Longest wait for response headers and between body bytes, in ms (a backstop behind the breaker's timeout). */
  timeoutMs: number;
}

/**
 * A keep-alive connection pool to one origin. undici's Pool reuses sockets across requests, which
 * is much cheaper per request than global fetch (no per-call dispatcher and Response machinery).
 */
export function createPool(origin: string, options: PoolOptions): Pool {
  return new Pool(origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
}

/** The provider's account-capacity headers, which the outbound limiter reads (the gateway strips them later). */
const CAPACITY_HEADER = /^(x-ratelimit-|anthropic-ratelimit-|retry-after)/i;

/** Capacity headers of an upstream answer, as a result's headers. */
export function capacityHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (CAPACITY_HEADER.test(name) && value !== undefined)
      kept[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return kept;
}

/**
 * The provider's request id (OpenAI `x-request-id`, Anthropic `request-id`) as `x-request-id`, which
 * the gateway hands to the client: the id the provider's support can look up.
 */
export function upstreamHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const id = headers['x-request-id'] ?? headers['request-id'];
  const value = Array.isArray(id) ? id[0] : id;
  return value ? { 'x-request-id': value } : {};
}

/** Where a provider's requests go: one keep-alive pool per origin, and the span's server.* values. */
export interface Endpoint {
  readonly pool: Pool;
  /** Path and query of the endpoint URL. */
  readonly path: string;
  readonly serverAddress: string;
  readonly serverPort: number;
  /** Requests carry the active trace context. */
  readonly propagate: boolean;
}

export function endpoint(url: URL, options: PoolOptions): Endpoint {
  return {
    pool: createPool(url.origin, options),
    path: `${url.pathname}${url.search}`,
    serverAddress: url.hostname,
    serverPort: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    propagate: options.propagate ?? true,
  };
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Map a transport failure to our errors: undici's timeouts become UpstreamTimeoutError (504), other
 * connection failures UpstreamError(…, 0) (502). An abort by the caller passes through unchanged.
 */
export function transportError(
  provider: string,
  error: unknown,
  timeoutMs: number,
  signal: AbortSignal,
): unknown {
  if (signal.aborted) return signal.reason ?? error;
  const code = errorCode(error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT')
    return new UpstreamTimeoutError('total', timeoutMs, { cause: error });
  if (code === 'UND_ERR_BODY_TIMEOUT') return new UpstreamTimeoutError('idle', timeoutMs, { cause: error });
  if (code === 'UND_ERR_ABORTED') return error;
  const reason = code ?? (error instanceof Error ? error.name : 'error');
  return new UpstreamError(`Cannot reach provider '${provider}' (${reason})`, 0, { cause: error });
}

/** The message inside an OpenAI (`error.message`) or Anthropic (`error.message`) error body. */
function providerMessage(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    if (typeof body.error === 'object' && typeof body.error?.message === 'string') return body.error.message;
    if (typeof body.error === 'string') return body.error;
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON
  }
  return undefined;
}

/**
 * Turn a non-2xx provider answer into an UpstreamError carrying its status and Retry-After. The
 * provider's message is kept (scrubbed: providers echo the key they were sent, 300 characters at most).
 */
export async function statusError(
  provider: string,
  response: Dispatcher.ResponseData<unknown>,
): Promise<UpstreamError> {
  let text = '';
  try {
    text = await response.body.text();
  } catch {
    // the body is best effort
  }
  const detail = providerMessage(text);
  const retryAfter = retryAfterSeconds(response.headers);
  return new UpstreamError(
    `Provider '${provider}' answered ${response.statusCode}${detail ? `: ${redactExcerpt(detail)}` : ''}`,
    response.statusCode,
    retryAfter === undefined ? {} : { retryAfter },
  );
}

/**
 * POST a JSON body to a provider. A transport failure becomes an UpstreamError (UpstreamTimeoutError on
 * a timeout), a non-2xx answer an UpstreamError with its status and Retry-After.
 */
export async function postJson(
  provider: string,
  { pool, path, propagate }: Pick<Endpoint, 'pool' | 'path' | 'propagate'>,
  request: { readonly headers: Record<string, string>; readonly body: string },
  timeoutMs: number,
  signal: AbortSignal,
): Promise<Dispatcher.ResponseData<unknown>> {
  // The active span here is the attempt's CLIENT span: the provider's own tracing continues under it.
  if (propagate) propagation.inject(context.active(), request.headers);
  let response: Dispatcher.ResponseData<unknown>;
  try {
    response = await pool.request({
      path,
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal,
    });
  } catch (error) {
    throw transportError(provider, error, timeoutMs, signal);
  }
  if (response.statusCode < 200 || response.statusCode >= 300) throw await statusError(provider, response);
  return response;
}

/** Read a JSON reply; a body that is not JSON is a bad upstream reply (502). */
export async function readJson(
  provider: string,
  response: Dispatcher.ResponseData<unknown>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<unknown> {
  let text: string;
  try {
    text = await response.body.text();
  } catch (error) {
    throw transportError(provider, error, timeoutMs, signal);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UpstreamError(`Provider '${provider}' sent a reply that is not valid JSON`, 0, {
      cause: error,
    });
  }
}

/** Parse one SSE data payload as JSON; a malformed event is a bad upstream reply. */
export function parseEventJson(provider: string, event: SseEvent): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(event.data);
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new UpstreamError(`Provider '${provider}' sent a stream event that is not valid JSON`, 0);
}

/**
 * SSE events from a provider body. Transport errors midway become UpstreamError/UpstreamTimeoutError;
 * a consumer that stops early destroys the body (and so frees or closes the socket).
 */
export async function* providerEvents(
  provider: string,
  body: Dispatcher.ResponseData<unknown>['body'],
  timeoutMs: number,
  signal: AbortSignal,
): AsyncGenerator<SseEvent> {
  try {
    yield* parseSse(body);
  } catch (error) {
    throw transportError(provider, error, timeoutMs, signal);
  } finally {
    if (!body.destroyed) body.destroy();
  }
}
