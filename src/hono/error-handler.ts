import type { Context, ErrorHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { failureReasonOf } from '../breaker/classify.ts';
import {
  AlchemistError,
  isAlchemistError,
  isAuthenticationError,
  toErrorResponse,
  UpstreamError,
} from '../core/errors.ts';
import { retryAfterSeconds } from '../wire/http.ts';

export interface AiErrorHandlerOptions {
  /**
   * Called with an error that is neither the pack's nor a provider SDK's (it answers a 500 that
   * reveals nothing): log it here. @default nothing
   */
  onUnexpected?: (error: Error, c: Context) => void;
}

/**
 * A provider SDK's error (the OpenAI and Anthropic SDKs' `APIError` and connection errors, matched by
 * shape so the SDKs stay optional) as the pack's error it stands for.
 */
function providerError(error: Error): AlchemistError | undefined {
  const { status, headers } = error as { status?: unknown; headers?: Headers | Record<string, string> };
  if (typeof status === 'number' && status >= 400) {
    // The provider's message is not passed on: it can name our provider account or key.
    const retryAfter = retryAfterSeconds(headers);
    return new UpstreamError(
      `Provider answered ${status}`,
      status,
      retryAfter === undefined ? { cause: error } : { cause: error, retryAfter },
    );
  }
  const reason = failureReasonOf(error);
  if (reason === 'timeout') {
    return new AlchemistError('The provider did not answer in time', 504, 'timeout_error', 'timeout_total', {
      cause: error,
    });
  }
  if (reason === 'connection')
    return new UpstreamError('Connection to the provider failed', 0, { cause: error });
  return undefined;
}

/**
 * `app.onError(aiErrorHandler())`: every error a route throws answers as OpenAI-style JSON
 * `{"error":{"message","type","code"}}` instead of Hono's plain-text 500. The pack's errors keep their
 * status and headers (429/503 with `Retry-After`, 401 with `WWW-Authenticate`); a provider SDK's error
 * answers as the upstream error it is (its 4xx status, 429 with its `Retry-After`, 502 for a 5xx or a
 * failed connection, 504 for a timeout); Hono's `HTTPException`s answer as Hono renders them; anything
 * else is a 500 that reveals nothing.
 *
 * @param [options.onUnexpected] log errors that are neither the pack's nor a provider's
 * @example
 * const app = new Hono();
 * app.onError(aiErrorHandler({ onUnexpected: (error) => console.error(error) }));
 */
export function aiErrorHandler(options: AiErrorHandlerOptions = {}): ErrorHandler {
  return function aiErrorHandler(error, c) {
    // Hono's own (bodyLimit's 413, a route's `throw new HTTPException(...)`) answer as Hono renders them.
    if (error instanceof HTTPException) return error.getResponse();
    const known = isAlchemistError(error) ? error : providerError(error);
    if (known) {
      const response = known.getResponse();
      // RFC 6750 §3: a 401 for a bearer-protected resource names the scheme. Only the client's own
      // key earns it: a provider refusing ours is a 502 `upstream_auth`.
      if (isAuthenticationError(known))
        response.headers.set('www-authenticate', 'Bearer realm="alchemist-perf"');
      return response;
    }
    options.onUnexpected?.(error, c);
    const { status, headers, body } = toErrorResponse(error);
    return c.json(body, status as 500, headers);
  };
}
