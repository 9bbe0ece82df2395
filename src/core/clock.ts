/** A source of time in milliseconds. Injected so windows, TTLs and half-open timers are testable. */
export interface Clock {
  /** Milliseconds since an arbitrary, monotonic-enough origin (Date.now() by default). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/**
 * Resolve after `ms`, or reject with the signal's reason when it aborts first.
 * Timers are unref'd so a pending wait never keeps the process alive.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref?.();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
