import { isUpstreamError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';

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

/** `1h2m3.5s`, `6m0s`, `20ms` → milliseconds; undefined when unparseable. */
export function parseDuration(value: string): number | undefined {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000; // bare seconds
  let total = 0;
  let matched = '';
  for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    const amount = Number(match[1]);
    const unit = match[2];
    total +=
      unit === 'h'
        ? amount * 3_600_000
        : unit === 'm'
          ? amount * 60_000
          : unit === 's'
            ? amount * 1000
            : amount;
    matched += match[0];
  }
  return matched.length > 0 && matched === trimmed ? total : undefined;
}

function retryAfterMs(headers: Readonly<Record<string, string>>, now: number): number | undefined {
  const ms = headers['retry-after-ms'];
  if (ms !== undefined && Number.isFinite(Number(ms))) return Number(ms);
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const date = Date.parse(value); // RFC 9110 §10.2.3 also allows an HTTP-date
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function exhausted(value: string | undefined): boolean {
  return value !== undefined && value.trim() !== '' && Number(value) <= 0;
}

/** Milliseconds to pause the model for, after a result; undefined when the result says nothing. */
export function pauseFromResult(result: AiResult, now: number, defaultPauseMs: number): number | undefined {
  const headers = result.headers ?? {};
  if (result.status === 429) return retryAfterMs(headers, now) ?? defaultPauseMs;
  let pause: number | undefined;
  const consider = (ms: number | undefined) => {
    if (ms !== undefined && ms > 0) pause = Math.max(pause ?? 0, ms);
  };
  for (const kind of ['requests', 'tokens']) {
    if (exhausted(headers[`x-ratelimit-remaining-${kind}`])) {
      const reset = headers[`x-ratelimit-reset-${kind}`];
      consider(reset === undefined ? defaultPauseMs : (parseDuration(reset) ?? defaultPauseMs));
    }
    if (exhausted(headers[`anthropic-ratelimit-${kind}-remaining`])) {
      const reset = Date.parse(headers[`anthropic-ratelimit-${kind}-reset`] ?? '');
      consider(Number.isNaN(reset) ? defaultPauseMs : reset - now);
    }
  }
  return pause;
}

/** Milliseconds to pause the model for, after a thrown error; undefined unless it is an upstream 429. */
export function pauseFromError(error: unknown, defaultPauseMs: number): number | undefined {
  if (!isUpstreamError(error) || error.upstreamStatus !== 429) return undefined;
  return error.retryAfter === undefined ? defaultPauseMs : Math.max(error.retryAfter * 1000, 1);
}
