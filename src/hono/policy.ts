import type { Context, MiddlewareHandler } from 'hono';
import type { Policy } from '../core/compose.ts';
import type { CallContext } from '../core/context.ts';
import { isAlchemistError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { callContextOf } from './context.ts';
import { resultFromResponse, setResult } from './result.ts';

/** Lets users replace the error response for a policy's rejections (429, 503...). */
export type OnRejected = (c: Context, error: unknown) => Response | Promise<Response>;

export interface PolicyMiddlewareOptions {
  /** Response headers to add from the context after the policy ran (e.g. Cache-Status). */
  headers?: (ctx: CallContext) => Record<string, string> | undefined;
  onRejected?: OnRejected;
}

/**
 * Run a policy as Hono middleware: the rest of the chain (`next`) becomes the policy's `next`, its
 * response becomes an AiResult and back. Errors from inner layers reach the policy as errors (so a
 * cache can serve stale on a 503), and errors escape as errors, rendered by Hono through
 * `getResponse()` unless `onRejected` is given.
 */
export function policyMiddleware(
  name: string,
  policy: Policy<AiResult>,
  options: PolicyMiddlewareOptions = {},
): MiddlewareHandler {
  const handler: MiddlewareHandler = async (c, next) => {
    const ctx = await callContextOf(c);
    let result: AiResult;
    try {
      result = await policy.execute(ctx, async (nextCtx) => {
        // A policy may narrow the context (e.g. a deadline's AbortSignal): inner middleware and the
        // handler read it through `c.get('alchemist')`.
        if (nextCtx !== ctx) c.set('alchemist', nextCtx);
        try {
          await next();
        } finally {
          if (nextCtx !== ctx) c.set('alchemist', ctx);
        }
        if (c.error) {
          const error = c.error;
          // The error is ours to handle now; if it escapes again, Hono will render it again.
          c.error = undefined;
          throw error;
        }
        return resultFromResponse(c.res);
      });
    } catch (error) {
      if (options.onRejected && isAlchemistError(error)) {
        c.res = undefined;
        c.res = await options.onRejected(c, error);
        return;
      }
      // Headers a policy decided (RateLimit, Cache-Status) still belong on the error response.
      if (isAlchemistError(error)) Object.assign(error.headers, options.headers?.(ctx));
      throw error;
    }
    setResult(c, result, options.headers?.(ctx));
  };
  Object.defineProperty(handler, 'name', { value: name });
  return handler;
}
