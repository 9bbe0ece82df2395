/**
 * SDK errors are translated into policy errors (`UpstreamError`, `UpstreamTimeoutError`) so breakers
 * and retries understand them, and translated back when they reach the caller, who expects the SDK's
 * own classes. Only errors made by `translated()` are unwrapped; the policies' own rejections
 * (`CircuitOpenError`, `RateLimitedError`, ...) reach the caller as they are.
 */
const TRANSLATED = Symbol('alchemist-perf.translated');

/**
 * Remember that `error` stands for the SDK error in its `cause`. A mark on the error, not a set of
 * errors: a coalesced follower gets its own copy of the leader's error (`ownCopy`), mark included.
 */
export function translated<E extends Error>(error: E): E {
  Object.defineProperty(error, TRANSLATED, { value: true });
  return error;
}

/** What the caller sees: the SDK's original error for a translated one, anything else as it is. */
export function toCallerError(error: unknown): unknown {
  return error instanceof Error && (error as { [TRANSLATED]?: true })[TRANSLATED] === true
    ? error.cause
    : error;
}
