/**
 * Settle with `promise`, or reject with the signal's reason as soon as it aborts. The abandoned
 * promise keeps a handler, so its late rejection is never unhandled.
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** Close an iterator without waiting on it (it may be stuck on a request we just aborted). */
export function closeQuietly(iterator: AsyncIterator<unknown>): void {
  try {
    iterator.return?.().catch(() => {});
  } catch {
    // Already closing or closed.
  }
}

/** An abort-able timer (unref'd, so it never keeps the process alive). */
export function startTimer(ms: number, onFire: () => void): ReturnType<typeof setTimeout> {
  const timer = setTimeout(onFire, ms);
  timer.unref?.();
  return timer;
}
