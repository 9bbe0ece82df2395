import type { MiddlewareHandler } from 'hono';
import type { CallContext } from '../core/context.ts';
import { requestHeader } from '../hono/headers.ts';

/** Client request headers the gateway passes on to the provider: the Messages API version and betas. */
const FORWARDED = ['anthropic-version', 'anthropic-beta'] as const;

/** Forwarded headers by the call's request body, which every attempt (and fallback) of the call shares. */
const byRequest = new WeakMap<object, Readonly<Record<string, string>>>();

const NONE: Readonly<Record<string, string>> = Object.freeze({});

/** The client headers to pass on for a call (`anthropic-version`, `anthropic-beta`), when it sent any. */
export function forwardedHeaders(ctx: CallContext): Readonly<Record<string, string>> {
  return byRequest.get(ctx.request) ?? NONE;
}

/** Remembers the forwarded headers of the request `aiContext()` just parsed (use right after it). */
export function forwardHeaders(): MiddlewareHandler {
  return async function forwardHeaders(c, next) {
    const ctx = c.get('alchemist') as CallContext | undefined;
    if (ctx) {
      const headers: Record<string, string> = {};
      for (const name of FORWARDED) {
        const value = requestHeader(c, name);
        if (value) headers[name] = value;
      }
      if (Object.keys(headers).length > 0) byRequest.set(ctx.request, headers);
    }
    return next();
  };
}
