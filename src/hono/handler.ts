import type { Handler } from 'hono';
import type { Next, Policy } from '../core/compose.ts';
import { compose } from '../core/compose.ts';
import type { CallContext } from '../core/context.ts';
import { isAlchemistError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { requestPipeline } from './context.ts';
import { markPipelineStep } from './pipeline.ts';
import { setResult } from './result.ts';

export interface AiHandlerOptions {
  /**
   * More response headers from the context once the policies ran, on answers and on rejections alike.
   * The policies' own (`RateLimit-Policy` / `RateLimit`, `Cache-Status`, `Server-Timing`) are always
   * there; `rateLimitHeaders` and `cacheHeaders` return the same ones.
   */
  headers?: (ctx: CallContext) => Record<string, string> | undefined;
}

/**
 * The terminal handler of an AI route: runs the request's pipeline (the policies `app.use()` added,
 * then `policies`) around `call`, the upstream request, in one pass, and renders the result once.
 * Policies that call upstream more than once (retries, fallbacks) live here: Hono's `next()` runs only
 * once. One handler composing the limiter, the cache and resilience is what the gateway does.
 *
 * @example
 * app.post('/v1/chat/completions', aiHandler((ctx) => callProvider(ctx), [breaker]));
 * app.post('/v1/chat/completions', aiHandler(callProvider, [limits, cache, breaker]));
 */
export function aiHandler(
  call: Next<AiResult>,
  policies: readonly Policy<AiResult>[] = [],
  options: AiHandlerOptions = {},
): Handler {
  const own = compose(...policies);
  const { headers } = options;
  return markPipelineStep(async function aiHandler(c) {
    const pipeline = await requestPipeline(c);
    let result: AiResult;
    try {
      // Behind middleware of your own that the pipeline already runs around, only this handler's policies run.
      result = pipeline.started
        ? await own.execute(c.get('alchemist' as never) ?? pipeline.ctx, call)
        : await pipeline.run(call, own);
    } catch (error) {
      if (isAlchemistError(error)) Object.assign(error.headers, pipeline.headers(), headers?.(pipeline.ctx));
      throw error;
    }
    const answerHeaders = pipeline.headers();
    if (headers) Object.assign(answerHeaders, headers(pipeline.ctx));
    setResult(c, result, answerHeaders, pipeline.ctx.wire.sse);
    return c.res;
  });
}
