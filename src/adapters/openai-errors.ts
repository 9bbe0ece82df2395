import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAIError,
} from 'openai';
import { UpstreamError, UpstreamTimeoutError } from '../core/errors.ts';
import { retryAfterSeconds } from '../wire/http.ts';
import { translated } from './translate.ts';

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
  return mapped ? translated(mapped) : error;
}
