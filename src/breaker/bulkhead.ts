import { BulkheadPolicy, isBulkheadRejectedError, isTaskCancelledError } from 'cockatiel';
import { OverloadedError } from '../core/errors.ts';
import { raceSignal } from './abort.ts';
import { integerAtLeast } from './validate.ts';

/** A per-provider concurrency cap with a bounded queue. */
export interface BulkheadOptions {
  /** Upstream calls in flight at once, per provider (a stream counts until it ends). */
  maxConcurrent: number;
  /** Calls waiting for a slot, per provider; past it, calls are rejected with 503. @default 0 */
  maxQueue?: number;
  /** `Retry-After` (s) on a rejection. @default 1 */
  retryAfterSeconds?: number;
}

/** A bulkhead's occupancy, for `/admin/stats`. */
export interface BulkheadSnapshot {
  readonly provider: string;
  readonly active: number;
  readonly queued: number;
  readonly maxConcurrent: number;
  readonly maxQueue: number;
}

export interface Bulkheads {
  /**
   * Run `body` in the provider's bulkhead. The slot is held until `body`'s `done` settles (for a
   * stream, when the stream ends), while its result is handed back as soon as it exists.
   */
  run<T>(
    provider: string,
    signal: AbortSignal,
    body: () => Promise<{ value: T; done: Promise<void> }>,
  ): Promise<T>;
  snapshot(): BulkheadSnapshot[];
}

/** Cockatiel `bulkhead`s, one per provider, created on first use. */
export function createBulkheads(owner: string, options: BulkheadOptions): Bulkheads {
  const maxConcurrent = integerAtLeast(owner, 'bulkhead.maxConcurrent', options.maxConcurrent, 1);
  const maxQueue = integerAtLeast(owner, 'bulkhead.maxQueue', options.maxQueue ?? 0, 0);
  const retryAfter = integerAtLeast(owner, 'bulkhead.retryAfterSeconds', options.retryAfterSeconds ?? 1, 0);
  const byProvider = new Map<string, BulkheadPolicy>();
  const bulkheadOf = (provider: string) => {
    let bulkhead = byProvider.get(provider);
    if (!bulkhead) {
      bulkhead = new BulkheadPolicy(maxConcurrent, maxQueue);
      byProvider.set(provider, bulkhead);
    }
    return bulkhead;
  };

  return {
    run(provider, signal, body) {
      const bulkhead = bulkheadOf(provider);
      const handed = Promise.withResolvers<Awaited<ReturnType<typeof body>>['value']>();
      bulkhead
        .execute(async () => {
          const { value, done } = await body();
          handed.resolve(value);
          await done;
        }, signal)
        .catch((error: unknown) => {
          if (isBulkheadRejectedError(error)) {
            handed.reject(
              new OverloadedError(`Provider '${provider}' is at its concurrency limit`, {
                retryAfter,
                cause: error,
              }),
            );
          } else if (isTaskCancelledError(error)) {
            handed.reject(signal.reason);
          } else {
            handed.reject(error);
          }
        });
      // A queued call whose caller left gives up at once (cockatiel drops it when its turn comes).
      return raceSignal(handed.promise, signal);
    },
    snapshot() {
      return [...byProvider].map(([provider, bulkhead]) => ({
        provider,
        active: maxConcurrent - bulkhead.executionSlots,
        queued: maxQueue - bulkhead.queueSlots,
        maxConcurrent,
        maxQueue,
      }));
    },
  };
}
