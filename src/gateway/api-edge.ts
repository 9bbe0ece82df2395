import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { CallContext } from '../core/context.ts';
import type { ErrorBody } from '../core/errors.ts';
import { encodeSseData, parseSse, SSE_DONE } from '../core/sse.ts';
import type { SseFraming, WireFormat } from '../wire/types.ts';

/** Span attribute holding the `x-request-id` the client got. */
export const ATTR_REQUEST_ID = 'alchemist.request.id';

const encoder = new TextEncoder();

/** The gateway's own request id (when the provider sent none, or no provider answered). */
function ownRequestId(): string {
  return `req_${randomUUID().replaceAll('-', '')}`;
}

function isErrorBody(value: unknown): value is ErrorBody {
  const error = (value as { error?: { message?: unknown } } | null)?.error;
  return typeof error?.message === 'string' && (value as { type?: unknown }).type === undefined;
}

/**
 * A stream rendered as chat does it (data-only events, `[DONE]`, an OpenAI error event on failure)
 * reframed for an API with named events: `event: <type>` on every event, no `[DONE]`, and the
 * failure as the API's own `event: error`. The data is passed on as it was written.
 */
function reframe(body: ReadableStream<Uint8Array>, sse: SseFraming): ReadableStream<Uint8Array> {
  const events = parseSse(body)[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Loop until something is written: a pull that enqueues nothing (the dropped [DONE]) while
        // the reader waits is never called again.
        for (;;) {
          const next = await events.next();
          if (next.done) return controller.close();
          const { data } = next.value;
          if (data === SSE_DONE) continue;
          controller.enqueue(reframed(data, sse));
          return;
        }
      },
      async cancel() {
        await events.return?.(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

function reframed(data: string, sse: SseFraming): Uint8Array {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return encodeSseData(data);
  }
  if (isErrorBody(parsed))
    return encoder.encode(`event: error\ndata: ${JSON.stringify(sse.errorEvent(parsed))}\n\n`);
  const name = sse.eventName(parsed);
  return encoder.encode(name ? `event: ${name}\ndata: ${data}\n\n` : `data: ${data}\n\n`);
}

function replaceResponse(c: Context, response: Response): void {
  // Unset first: given a new response while one is set, Hono copies the old one's headers into it.
  c.res = undefined;
  c.res = response;
}

/** The `x-request-id` of each call, by its request body (shared by every attempt and fallback). */
const requestIds = new WeakMap<object, string>();

/** The provider's request id for this call: the one the client gets (and the span records). */
export function recordProviderRequestId(ctx: CallContext, id: string): void {
  requestIds.set(ctx.request, id);
  ctx.span.setAttribute(ATTR_REQUEST_ID, id);
}

/**
 * The request-id headers of an answer (for `aiHandler`'s `headers` option): `x-request-id`, and on
 * a Messages route also `request-id`, which the Anthropic SDK reads.
 */
export function requestIdHeaders(ctx: CallContext): Record<string, string> {
  const id = requestIds.get(ctx.request);
  if (!id) return {};
  return ctx.wire.api === 'anthropic.messages'
    ? { 'x-request-id': id, 'request-id': id }
    : { 'x-request-id': id };
}

/**
 * Gives the call the gateway's own request id, on the request span too (right after `aiContext()`);
 * the proxy replaces it with the provider's when a provider answers with its own.
 */
export function requestIdOnSpan(): MiddlewareHandler {
  return async function requestIdOnSpan(c, next) {
    const ctx = c.get('alchemist') as CallContext | undefined;
    if (ctx) {
      const id = ownRequestId();
      requestIds.set(ctx.request, id);
      ctx.span.setAttribute(ATTR_REQUEST_ID, id);
    }
    return next();
  };
}

/**
 * The outermost layer of an API route: answers in that API's own shape. Streams of APIs with named
 * events are reframed (see `reframe`); errors are rendered in the API's error shape (Anthropic's
 * `{"type":"error","error":{...}}` on `/v1/messages`) and get an `x-request-id` when none is on them
 * yet (rejections before the call had an id: 401, 400, 413). Answers get theirs from
 * `requestIdHeaders` (the provider's when it sent one, else the gateway's own). A successful chat
 * answer passes through untouched: its headers are never read here.
 */
export function apiEdge(wire: WireFormat): MiddlewareHandler {
  return async function apiEdge(c, next) {
    await next();
    let response = c.res;
    if (response.status >= 400) {
      const type = response.headers.get('content-type') ?? '';
      if (type.includes('json')) {
        const body: unknown = await response
          .clone()
          .json()
          .catch(() => undefined);
        const shaped = isErrorBody(body) ? wire.errorBody(body) : body;
        if (shaped !== body) {
          response = new Response(JSON.stringify(shaped), response);
          replaceResponse(c, response);
        }
      }
      if (!response.headers.has('x-request-id')) {
        const id = ownRequestId();
        response.headers.set('x-request-id', id);
        if (wire.api === 'anthropic.messages') response.headers.set('request-id', id);
      }
      return;
    }
    if (wire.sse && response.headers.get('content-type')?.includes('text/event-stream') && response.body) {
      replaceResponse(c, new Response(reframe(response.body, wire.sse), response));
    }
  };
}
