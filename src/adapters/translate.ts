/**
 * SDK errors are translated into policy errors (`UpstreamError`, `UpstreamTimeoutError`) so breakers
 * and retries understand them, and translated back when they reach the caller, who expects the SDK's
 * own classes. Only errors made by `translated()` are unwrapped; the policies' own rejections
 * (`CircuitOpenError`, `RateLimitedError`, ...) reach the caller as they are.
 */
const made = new WeakSet<Error>();

/** Remember that `error` stands for the SDK error in its `cause`. */
export function translated<E extends Error>(error: E): E {
  made.add(error);
  return error;
}

/** What the caller sees: the SDK's original error for a translated one, anything else as it is. */
export function toCallerError(error: unknown): unknown {
  return error instanceof Error && made.has(error) ? error.cause : error;
}
