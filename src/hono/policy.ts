import type { Context, MiddlewareHandler } from 'hono';
import type { Policy } from '../core/compose.ts';
import { isAlchemistError } from '../core/errors.ts';
import type { HeaderSource } from '../core/pipeline.ts';
import { RequestPipeline } from '../core/pipeline.ts';
import type { AiResult } from '../core/result.ts';
import { requestPipeline } from './context.ts';
import { markPipelineStep, nextStepIsOurs, runAroundNext } from './pipeline.ts';
import { resultFromResponse } from './result.ts';

/** Lets users replace the error response for a policy's rejections (429, 503...). */
export type OnRejected = (c: Context, error: unknown) => Response | Promise<Response>;

export interface PolicyMiddlewareOptions {
  /** More response headers from the context after the policy ran (the policies' own are always there). */
  headers?: HeaderSource;
  onRejected?: OnRejected;
}

/** The policy, with its rejections (the pack's errors from it or from inner layers) answered by `onRejected`. */
function withRejections(policy: Policy<AiResult>, c: Context, onRejected: OnRejected): Policy<AiResult> {
  return {
    name: policy.name,
    async execute(ctx, next) {
      try {
        return await policy.execute(ctx, next);
      } catch (error) {
        if (!isAlchemistError(error)) throw error;
        return resultFromResponse(await onRejected(c, error));
      }
    },
  };
}

const readResponse = (c: Context) => resultFromResponse(c.res);

/**
 * A policy as Hono middleware in `app.use()` position. It adds its policy to the request's pipeline
 * (opened by `aiContext()`, or with defaults) and passes on; the pipeline runs once, in one pass, at
 * the `aiHandler()` that answers, or here when the handler after it is your own (then the rest of the
 * chain is the call, and its response is read once). Errors escape as errors, for Hono's error handler
 * (or `onRejected`); the decisions' headers (RateLimit, Cache-Status) are on answers and errors alike.
 */
export function policyMiddleware(
  name: string,
  policy: Policy<AiResult>,
  options: PolicyMiddlewareOptions = {},
): MiddlewareHandler {
  const { onRejected, headers } = options;
  const handler: MiddlewareHandler = async (c, next) => {
    const own = onRejected ? withRejections(policy, c, onRejected) : policy;
    const pipeline = await requestPipeline(c);
    if (pipeline.started) {
      // Behind middleware of your own that the pipeline already runs around: this policy runs alone.
      const alone = new RequestPipeline({ ctx: pipeline.ctx, metrics: false });
      alone.add(own, headers);
      return runAroundNext(c, alone, next, readResponse);
    }
    pipeline.add(own, headers);
    if (nextStepIsOurs(c)) return next();
    await runAroundNext(c, pipeline, next, readResponse);
  };
  Object.defineProperty(handler, 'name', { value: name });
  return markPipelineStep(handler);
}
