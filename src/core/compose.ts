import type { CallContext } from './context.ts';
import type { AiResult } from './result.ts';

/** Runs the rest of the chain for this context. */
export type Next<R = AiResult> = (ctx: CallContext) => Promise<R>;

/**
 * A capability (cache, limit, breaker...) created once from options, then `execute`d per call.
 * A policy never knows whether it runs inside Hono or around a plain function.
 */
export interface Policy<R = AiResult> {
  /** Short name, for spans and debugging. */
  readonly name: string;
  execute(ctx: CallContext, next: Next<R>): Promise<R>;
}

/**
 * Compose policies, outermost first: `compose(limit, cache, breaker)` runs the limiter, then the
 * cache, then the breaker around the call. Every policy sees the same context, so one AbortSignal
 * threads through the whole chain.
 */
export function compose<R = AiResult>(...policies: readonly Policy<R>[]): Policy<R> {
  const chain = [...policies];
  if (chain.length === 1) return chain[0] as Policy<R>;
  return {
    name: chain.map((p) => p.name).join('>') || 'noop',
    execute(ctx, next) {
      const dispatch = (index: number, current: CallContext): Promise<R> => {
        const policy = chain[index];
        if (!policy) return next(current);
        return policy.execute(current, (nextCtx) => dispatch(index + 1, nextCtx));
      };
      return dispatch(0, ctx);
    },
  };
}
