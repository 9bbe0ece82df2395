import type { MiddlewareHandler } from 'hono';
import type { BreakerGuard, BreakerGuardOptions } from '../breaker/guard.ts';
import { createBreakerGuard } from '../breaker/guard.ts';
import type { OnRejected } from './policy.ts';
import { policyMiddleware } from './policy.ts';

/** Options of `aiBreaker()`: the breaker guard's, plus how rejections render. */
export interface AiBreakerOptions extends BreakerGuardOptions {
  /** Replace the 503/504 responses (open breaker, full bulkhead, timeout). @default the error's own OpenAI-style response */
  onRejected?: OnRejected;
}

/**
 * Circuit breakers and timeouts for your own AI handlers, in middleware position. The handler's 5xx
 * responses and errors count against the provider and provider/model breakers; an open breaker answers
 * 503 with `Retry-After` without running the handler; the total timeout aborts
 * `c.get('alchemist').signal` (pass it to your SDK call) and answers 504.
 *
 * No retries or fallbacks here: Hono's `next()` runs only once, so calling the handler again is
 * impossible. For those, use `createResilience()` inside `aiHandler(call, [resilience])`.
 *
 * @param [options.breakers] a shared registry (from `createBreakerRegistry()`), so every route feeds the same breakers
 * @param [options.timeoutMs=60000] total timeout, ms
 * @example
 * const breakers = createBreakerRegistry({ failureThreshold: 5, halfOpenAfterMs: 30_000 });
 * app.use('/v1/*', aiContext(), aiBreaker({ breakers, timeoutMs: 30_000 }));
 * app.post('/v1/chat/completions', async (c) => {
 *   const { request, signal } = c.get('alchemist');
 *   return c.json(await openai.chat.completions.create(request, { signal }));
 * });
 */
export function aiBreaker(
  options: AiBreakerOptions = {},
): MiddlewareHandler & { readonly guard: BreakerGuard } {
  const { onRejected, ...guardOptions } = options;
  const guard = createBreakerGuard(guardOptions);
  const middleware = policyMiddleware('aiBreaker', guard, onRejected ? { onRejected } : {});
  return Object.assign(middleware, { guard });
}
