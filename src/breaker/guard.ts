import { systemClock } from '../core/clock.ts';
import type { Policy } from '../core/compose.ts';
import { compose } from '../core/compose.ts';
import type { AiResult } from '../core/result.ts';
import type { AttemptSettings } from './attempt.ts';
import { runAttempt } from './attempt.ts';
import type { BulkheadOptions } from './bulkhead.ts';
import { createBulkheads } from './bulkhead.ts';
import type { BreakerRegistry, BreakerRegistryOptions } from './registry.ts';
import { createBreakerRegistry } from './registry.ts';
import type { ResilienceState } from './resilience.ts';
import { positiveMs } from './validate.ts';

/** Options of `createBreakerGuard()` / `aiBreaker()`. Breaker fields apply only without `breakers`. */
export interface BreakerGuardOptions extends BreakerRegistryOptions {
  /** A shared breaker registry (from `createBreakerRegistry()`). @default a new one from the breaker fields */
  breakers?: BreakerRegistry;
  /** Total timeout of the guarded call (until the JSON reply, or a stream's first chunk), ms. @default 60000 */
  timeoutMs?: number;
  /** Streams: time to the first chunk, ms. @default 30000 */
  firstChunkTimeoutMs?: number;
  /** Streams: the longest silence between two chunks, ms. @default 30000 */
  idleTimeoutMs?: number;
  /** Per-provider concurrency cap with a bounded queue. @default none */
  bulkhead?: BulkheadOptions;
}

/** A breaker-and-timeout policy that calls `next` exactly once. */
export interface BreakerGuard extends Policy<AiResult> {
  readonly breakers: BreakerRegistry;
  state(): ResilienceState;
}

const OWNER = 'aiBreaker';

/**
 * Breakers (provider and provider/model), a total timeout, stream first-chunk and idle timeouts and an
 * optional bulkhead around one call, with no retries or fallbacks: for places where the rest of the
 * chain can run only once (Hono middleware). The call's 5xx results and errors count as failures.
 *
 * @example
 * const guard = createBreakerGuard({ breakers, timeoutMs: 30_000 });
 * const result = await guard.execute(ctx, (timed) => callProvider(timed)); // timed.signal aborts on timeout
 */
export function createBreakerGuard(options: BreakerGuardOptions = {}): BreakerGuard {
  const breakers = options.breakers ?? createBreakerRegistry(options);
  const bulkheads = options.bulkhead ? createBulkheads(OWNER, options.bulkhead) : undefined;
  const settings: AttemptSettings = {
    breakers,
    bulkheads,
    perAttempt: compose(),
    timeouts: {
      totalMs: positiveMs(OWNER, 'timeoutMs', options.timeoutMs ?? 60_000),
      firstChunkMs: positiveMs(OWNER, 'firstChunkTimeoutMs', options.firstChunkTimeoutMs ?? 30_000),
      idleMs: positiveMs(OWNER, 'idleTimeoutMs', options.idleTimeoutMs ?? 30_000),
    },
    clock: options.clock ?? systemClock,
  };
  return {
    name: 'breaker',
    breakers,
    state: () => ({ breakers: breakers.snapshot(), bulkheads: bulkheads?.snapshot() ?? [] }),
    execute: (ctx, next) => runAttempt(settings, ctx, next, ctx.signal, Number.POSITIVE_INFINITY),
  };
}
