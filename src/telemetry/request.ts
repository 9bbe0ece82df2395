import type { Attributes, MeterProvider } from '@opentelemetry/api';
import type { CacheResult } from '../cache/types.ts';
import type { CallContext } from '../core/context.ts';
import {
  isAlchemistError,
  isBadRequestError,
  isBudgetExceededError,
  isCircuitOpenError,
  isOverloadedError,
  isRateLimitedError,
  isUpstreamError,
  isUpstreamTimeoutError,
} from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { statusFault } from '../wire/http.ts';
import { getInstruments } from './instruments.ts';
import { modelLabel, OTHER_LABEL, providerLabel, routeLabel } from './labels.ts';
import {
  ATTR_CACHE_RESULT,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_HTTP_ROUTE,
  ATTR_OUTCOME,
} from './semconv.ts';

/** How a call ended, as recorded on `alchemist.request.duration` (`alchemist.outcome`): a closed union. */
export const OUTCOMES = [
  'success',
  'client_error',
  'rate_limited',
  'overloaded',
  'circuit_open',
  'timeout',
  'upstream_error',
  'cancelled',
  'error',
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export function outcomeOf(error: unknown): Outcome {
  if (isRateLimitedError(error) || isBudgetExceededError(error)) return 'rate_limited';
  if (isOverloadedError(error)) return 'overloaded';
  if (isCircuitOpenError(error)) return 'circuit_open';
  if (isUpstreamTimeoutError(error)) return 'timeout';
  if (isUpstreamError(error))
    return statusFault(error.status) === undefined ? 'client_error' : 'upstream_error';
  if (isBadRequestError(error) || (isAlchemistError(error) && error.status < 500)) return 'client_error';
  if (error instanceof Error && error.name === 'AbortError') return 'cancelled';
  return 'error';
}

/** `alchemist.cache.result` of a request: its cache decision, or `none` when no cache was on its way. */
export type RequestCacheResult = CacheResult | 'none';

/** The attributes of `alchemist.request.duration` (also used to create its series at 0, see prime.ts). */
export function requestAttributes(
  cacheResult: string,
  model: string,
  provider: string,
  outcome: Outcome,
): Attributes {
  return {
    [ATTR_CACHE_RESULT]: cacheResult,
    [ATTR_GEN_AI_REQUEST_MODEL]: modelLabel.get(model),
    [ATTR_GEN_AI_PROVIDER_NAME]: providerLabel.get(provider),
    [ATTR_OUTCOME]: outcome,
  };
}

/**
 * Count a call in `alchemist.requests.active` and, when it ends, record `alchemist.request.duration`
 * with its cache result and outcome. For a stream, "ends" means the stream ends.
 */
export function trackRequest(ctx: CallContext, meterProvider?: MeterProvider) {
  const instruments = getInstruments(meterProvider);
  const route = { [ATTR_HTTP_ROUTE]: routeLabel.get(ctx.route) };
  const startedAt = performance.now();
  instruments.activeRequests.add(1, route);
  let finished = false;
  const finish = (outcome: Outcome) => {
    if (finished) return;
    finished = true;
    instruments.activeRequests.add(-1, route);
    instruments.requestDuration.record(
      (performance.now() - startedAt) / 1000,
      requestAttributes(ctx.decisions.cacheResult ?? 'none', ctx.model, ctx.genAiProvider, outcome),
    );
  };
  return {
    /** Record a JSON answer now. */
    succeed(result: AiResult): void {
      finish(result.status < 400 ? 'success' : result.status < 500 ? 'client_error' : 'upstream_error');
    },
    /** For a stream: the function to call when it ends (complete, or with the error that broke it). */
    streamEnd(): (complete: boolean, error?: unknown) => void {
      return (complete, error) => finish(complete ? 'success' : error ? outcomeOf(error) : 'cancelled');
    },
    fail(error: unknown): void {
      finish(outcomeOf(error));
    },
  };
}

/**
 * Record a request rejected before it had a call context (401 unknown key, 400 malformed body), so
 * `alchemist.request.duration` and what is computed from it (`/admin/stats`) count every answer.
 */
export function recordRejectedRequest(
  startedAt: number,
  model: string | undefined,
  provider: string | undefined,
  meterProvider?: MeterProvider,
): void {
  getInstruments(meterProvider).requestDuration.record(
    (performance.now() - startedAt) / 1000,
    requestAttributes('none', model ?? OTHER_LABEL, provider ?? OTHER_LABEL, 'client_error'),
  );
}
