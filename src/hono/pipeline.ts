import type { Context } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { CallContext } from '../core/context.ts';
import type { RequestPipeline } from '../core/pipeline.ts';
import type { AiResult } from '../core/result.ts';
import { setResult } from './result.ts';

/** The request's pipeline, in the Hono context (not a public variable: `alchemist` is the call context). */
const PIPELINE_KEY = 'alchemist.pipeline';

/** Marks the middleware and handlers that take part in the pipeline (policy middleware, `aiHandler`). */
const PIPELINE_STEP = Symbol.for('alchemist-perf.pipeline-step');

export function markPipelineStep<T extends object>(handler: T): T {
  return Object.defineProperty(handler, PIPELINE_STEP, { value: true });
}

/**
 * Whether the handler Hono runs after the current one is a policy middleware or an `aiHandler`: then
 * a policy middleware only adds its policy and passes on, and the pipeline runs once, further in.
 */
export function nextStepIsOurs(c: Context): boolean {
  const next = matchedRoutes(c)[c.req.routeIndex + 1]?.handler as { [PIPELINE_STEP]?: true } | undefined;
  return next?.[PIPELINE_STEP] === true;
}

export function pipelineOf(c: Context): RequestPipeline | undefined {
  return c.get(PIPELINE_KEY as never) as RequestPipeline | undefined;
}

export function setPipeline(c: Context, pipeline: RequestPipeline): void {
  c.set(PIPELINE_KEY as never, pipeline as never);
  c.set('alchemist' as never, pipeline.ctx as never);
}

/**
 * Run the pipeline with the rest of the Hono chain as its call (for policies in `app.use()` position
 * in front of a handler of your own), and render what it returns once. A policy may narrow the
 * context (a deadline's AbortSignal): inner middleware and the handler read it with
 * `c.get('alchemist')`. Errors from inner layers reach the policies as errors (a cache can serve stale
 * on a 503); errors escape as errors, for Hono's error handler to render.
 */
export async function runAroundNext(
  c: Context,
  pipeline: RequestPipeline,
  next: () => Promise<void>,
  readResult: (c: Context) => Promise<AiResult>,
): Promise<void> {
  const ctx = pipeline.ctx;
  const result = await pipeline.run(async (nextCtx: CallContext) => {
    if (nextCtx !== ctx) c.set('alchemist' as never, nextCtx as never);
    try {
      await next();
    } finally {
      if (nextCtx !== ctx) c.set('alchemist' as never, ctx as never);
    }
    if (c.error) {
      const error = c.error;
      // The error is ours to handle now; if it escapes again, Hono renders it again.
      c.error = undefined;
      throw error;
    }
    return readResult(c);
  });
  setResult(c, result, pipeline.headers(), ctx.wire.sse);
}
