import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAIError,
} from 'openai';
import { UpstreamError, UpstreamTimeoutError } from '../core/errors.ts';

/** Errors we made from SDK errors, so the original can be handed back to the caller. */
const translated = new WeakSet<Error>();

/**
 * `Retry-After` of a provider reply in seconds: OpenAI's `retry-after-ms`, else `retry-after` as
 * delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Undefined when absent or unreadable.
 */
export function retryAfterSeconds(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  const raw = headers.get('retry-after');
  if (raw === null || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds : undefined;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}

/**
 * The SDK's error in the shape the policies understand: an HTTP error becomes an `UpstreamError`
 * with the provider's status and `Retry-After` (so the breaker counts 5xx/429 and retries honour the
 * delay), a timeout an `UpstreamTimeoutError`, a failed connection an `UpstreamError` with status 0.
 * The caller's own abort stays an abort: it is not the provider's failure.
 */
export function toPolicyError(error: unknown, timeoutMs: number): unknown {
  if (!(error instanceof OpenAIError) || error instanceof APIUserAbortError) return error;
  let mapped: Error | undefined;
  if (error instanceof APIConnectionTimeoutError) {
    mapped = new UpstreamTimeoutError('total', timeoutMs, { cause: error });
  } else if (error instanceof APIConnectionError) {
    mapped = new UpstreamError('Connection to the provider failed', 0, { cause: error });
  } else if (error instanceof APIError && typeof error.status === 'number') {
    const retryAfter = retryAfterSeconds(error.headers);
    mapped = new UpstreamError(
      `Provider answered ${error.status}`,
      error.status,
      retryAfter === undefined ? { cause: error } : { cause: error, retryAfter },
    );
  } else if (error instanceof APIError) {
    // An error event inside a stream (no HTTP status): the provider failed mid-answer.
    mapped = new UpstreamError('Provider stream reported an error', 0, { cause: error });
  }
  if (!mapped) return error;
  translated.add(mapped);
  return mapped;
}

/**
 * What the caller sees: the SDK's original error when we translated it, our own errors
 * (`CircuitOpenError`, `RateLimitedError`, ...) as they are.
 */
export function toCallerError(error: unknown): unknown {
  return error instanceof Error && translated.has(error) ? error.cause : error;
}
