import { isAlchemistError, isUpstreamError, isUpstreamTimeoutError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { headerLookup, retryAfterMs, statusFault } from '../wire/http.ts';

/**
 * Why an upstream attempt failed, when the failure says something about the provider's health.
 * These values go on `alchemist.retry.attempts` (`alchemist.retry.reason`) and span events as they are.
 */
export type FailureReason = '5xx' | '429' | 'timeout' | 'connection';

/** Socket and DNS error codes (Node and undici) that mean the provider could not be reached. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/**
 * Codes that mean the provider itself cannot be reached or trusted (nothing was answered for any model):
 * refused, reset, DNS, routing, connect timeouts and TLS failures. Header and body timeouts are not
 * here: a slow model is that model's problem.
 */
const PROVIDER_LEVEL_CODES = new Set(
  [...CONNECTION_CODES].filter(
    (code) => code !== 'UND_ERR_HEADERS_TIMEOUT' && code !== 'UND_ERR_BODY_TIMEOUT',
  ),
);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_)|CERT|^UNABLE_TO_VERIFY|^SELF_SIGNED/;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** What a provider's status says about its health (the wire formats' one rule). */
const reasonForStatus: (status: number) => FailureReason | undefined = statusFault;

/** Walk an error and its `cause` chain (fetch wraps socket errors in `TypeError('fetch failed')`). */
function someCodeIn(error: unknown, matches: (code: string) => boolean): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    const fields = record(current);
    if (!fields) return false;
    if (typeof fields.code === 'string' && matches(fields.code)) return true;
    current = fields.cause;
  }
  return false;
}

function connectionCodeOf(error: unknown): boolean {
  return someCodeIn(error, (code) => CONNECTION_CODES.has(code));
}

/**
 * A failure of the provider as a whole rather than of one model: the connection was refused or reset,
 * DNS or routing failed, TLS failed (a code in the error's `cause` chain, as undici and fetch report
 * them), or an SDK's `APIConnectionError`. These count toward opening the provider-wide breaker at
 * once; a model's 5xx or timeout does only when failures span several models.
 */
export function isProviderLevelFailure(error: unknown): boolean {
  if (isUpstreamTimeoutError(error)) return false;
  if (record(error)?.name === 'APIConnectionError') return true;
  return someCodeIn(error, (code) => PROVIDER_LEVEL_CODES.has(code) || TLS_CODE.test(code));
}

/**
 * Classify a thrown error. Our own `UpstreamError` (status 0 = connection failure or malformed reply)
 * and `UpstreamTimeoutError`, provider SDK errors carrying an HTTP `status` (OpenAI and Anthropic SDKs'
 * `APIError`), their connection/timeout error classes, and Node/undici socket errors are understood.
 * Local decisions (our 429s, 503s from a limiter or an open breaker), client errors (4xx) and anything
 * unknown return undefined: they say nothing about the provider's health.
 */
export function failureReasonOf(error: unknown): FailureReason | undefined {
  if (isUpstreamTimeoutError(error)) return 'timeout';
  if (isUpstreamError(error)) {
    return error.upstreamStatus === 0 ? 'connection' : reasonForStatus(error.upstreamStatus);
  }
  if (isAlchemistError(error)) return undefined;
  const fields = record(error);
  if (!fields) return undefined;
  const name = typeof fields.name === 'string' ? fields.name : '';
  // AbortSignal.timeout() and SDK timeout classes.
  if (name === 'TimeoutError' || name === 'APIConnectionTimeoutError') return 'timeout';
  if (name === 'APIConnectionError') return 'connection';
  if (typeof fields.status === 'number') return reasonForStatus(fields.status);
  if (connectionCodeOf(error)) return 'connection';
  return undefined;
}

/** Classify a result that was returned rather than thrown (a handler may answer 5xx without throwing). */
export function resultFailureReasonOf(result: AiResult): FailureReason | undefined {
  return reasonForStatus(result.status);
}

/** An upstream answered with a client error (4xx other than 429): it is reachable and healthy. */
export function isUpstreamClientError(error: unknown): boolean {
  const status = isUpstreamError(error)
    ? error.upstreamStatus
    : isAlchemistError(error)
      ? undefined
      : record(error)?.status;
  return typeof status === 'number' && status >= 400 && statusFault(status) === undefined;
}

/**
 * How long the provider asked us to wait, in ms: `UpstreamError.retryAfter` (seconds), or the
 * `retry-after-ms` / `retry-after` headers of an SDK error or a returned result.
 */
export function retryAfterMsOf(failure: unknown): number | undefined {
  if (isAlchemistError(failure)) {
    return failure.retryAfter === undefined ? undefined : failure.retryAfter * 1000;
  }
  return retryAfterMs(headerLookup(record(failure)?.headers));
}
