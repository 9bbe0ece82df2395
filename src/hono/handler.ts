import type { Handler } from 'hono';
import type { Next, Policy } from '../core/compose.ts';
import { compose } from '../core/compose.ts';
import type { CallContext } from '../core/context.ts';
import { isAlchemistError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { callContextOf } from './context.ts';
import { setResult } from './result.ts';

export interface AiHandlerOptions {
  /**
   * Response headers from the context once the policies ran, on answers and on rejections alike
   * (e.g. `rateLimitHeaders` and `cacheHeaders`, when the limiter and the cache are among `policies`).
   */
  headers?: (ctx: CallContext) => Record<string, string> | undefined;
}

/**
 * A terminal handler that runs `call` (the upstream request) inside `policies`. Use it for policies
 * that must call upstream more than once (retries, fallbacks): Hono's `next()` runs only once, so
 * those live here, around the call itself, rather than in `app.use()` position. Any policy can run
 * here too: one handler composing the limiter, the cache and resilience is one pass per request
 * instead of a middleware layer each (the gateway does this).
 *
 * @example
 * app.post('/v1/chat/completions', aiHandler((ctx) => callProvider(ctx), [breaker]));
 * app.post('/v1/chat/completions', aiHandler(callProvider, [limits, cache, breaker], {
 *   headers: (ctx) => ({ ...rateLimitHeaders(ctx), ...cacheHeaders(ctx) }),
 * }));
 */
export function aiHandler(
  call: Next<AiResult>,
  policies: readonly Policy<AiResult>[] = [],
  options: AiHandlerOptions = {},
): Handler {
  const chain = compose(...policies);
  const { headers } = options;
  return async function aiHandler(c) {
    const ctx = await callContextOf(c);
    let result: AiResult;
    try {
      result = await chain.execute(ctx, call);
    } catch (error) {
      // Headers a policy decided (RateLimit, Cache-Status) still belong on the error response.
      if (headers && isAlchemistError(error)) Object.assign(error.headers, headers(ctx));
      throw error;
    }
    setResult(c, result, headers?.(ctx));
    return c.res;
  };
}
