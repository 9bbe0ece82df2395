/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"):
 * the n-th retry (n = 1, 2, ...) waits a uniformly random time in [0, min(cap, base * 2^(n-1))).
 * Full jitter spreads retries of many callers evenly, so a recovering provider is not hit in waves.
 */
export function fullJitterDelay(retry: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** (retry - 1));
  const draw = random();
  // A random source outside [0, 1) must not stretch the delay beyond its bound.
  return ceiling * Math.min(Math.max(draw, 0), 1);
}
