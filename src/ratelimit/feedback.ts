import { isUpstreamError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { capacityPauseMs, headerLookup, retryAfterMs } from '../wire/http.ts';

export { parseDuration } from '../wire/http.ts';

/**
 * Upstream rate-limit feedback: how long a provider asks us to hold off a model, from
 * - a 429 (thrown `UpstreamError` with `retryAfter`, or a 429 result with `retry-after`/`retry-after-ms`);
 * - OpenAI's `x-ratelimit-remaining-{requests,tokens}: 0` with `x-ratelimit-reset-{requests,tokens}`
 *   (Go-style durations such as `1s`, `6m0s`, `20ms`;
 *   https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers);
 * - Anthropic's `anthropic-ratelimit-{requests,tokens}-remaining: 0` with the matching `-reset`
 *   (an RFC 3339 time; https://docs.anthropic.com/en/api/rate-limits#response-headers).
 * Header names are read lowercase, as `Headers` and our results carry them.
 */

/** Milliseconds to pause the model for, after a result; undefined when the result says nothing. */
export function pauseFromResult(result: AiResult, now: number, defaultPauseMs: number): number | undefined {
  const get = headerLookup(result.headers);
  if (result.status === 429) return retryAfterMs(get, now) ?? defaultPauseMs;
  return capacityPauseMs(get, now, defaultPauseMs);
}

/** Milliseconds to pause the model for, after a thrown error; undefined unless it is an upstream 429. */
export function pauseFromError(error: unknown, defaultPauseMs: number): number | undefined {
  if (!isUpstreamError(error) || error.upstreamStatus !== 429) return undefined;
  return error.retryAfter === undefined ? defaultPauseMs : Math.max(error.retryAfter * 1000, 1);
}
