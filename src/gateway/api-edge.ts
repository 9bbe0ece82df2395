import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { CallContext } from '../core/context.ts';
import type { ErrorBody } from '../core/errors.ts';
import type { WireFormat } from '../wire/types.ts';

/** Span attribute holding the `x-request-id` the client got. */
export const ATTR_REQUEST_ID = 'alchemist.request.id';

/** The gateway's own request id (when the provider sent none, or no provider answered). */
function ownRequestId(): string {
  return `req_${randomUUID().replaceAll('-', '')}`;
}

function isErrorBody(value: unknown): value is ErrorBody {
  const error = (value as { error?: { message?: unknown } } | null)?.error;
  return typeof error?.message === 'string' && (value as { type?: unknown }).type === undefined;
}

function replaceResponse(c: Context, response: Response): void {
  // Unset first: given a new response while one is set, Hono copies the old one's headers into it.
  c.res = undefined;
  c.res = response;
}

/**
 * The provider's request id for this call: the one the client gets (and the span records). In the
 * call's decisions, which every attempt and fallback of the call shares.
 */
export function recordProviderRequestId(ctx: CallContext, id: string): void {
  ctx.decisions.requestId = id;
  ctx.span.setAttribute(ATTR_REQUEST_ID, id);
}

/**
 * The request-id headers of an answer (for `aiHandler`'s `headers` option): `x-request-id`, and on
 * a Messages route also `request-id`, which the Anthropic SDK reads.
 */
export function requestIdHeaders(ctx: CallContext): Record<string, string> {
  const id = ctx.decisions.requestId;
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
      ctx.decisions.requestId = id;
      ctx.span.setAttribute(ATTR_REQUEST_ID, id);
    }
    return next();
  };
}

/**
 * The outermost layer of an API route, for what happens before the request pipeline exists: a 413
 * from the body limit is rendered in the API's error shape (Anthropic's `{"type":"error",...}` on
 * `/v1/messages`; the pipeline renders its own errors and streams in that shape already), and an
 * error gets an `x-request-id` when none is on it yet (401, 400, 413: rejected before the call had
 * an id). Answers get theirs from `requestIdHeaders` (the provider's when it sent one, else the
 * gateway's own). A successful answer passes through untouched: its headers are never read here.
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
    }
  };
}
