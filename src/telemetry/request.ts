import type { MeterProvider } from '@opentelemetry/api';
import type { CallContext } from '../core/context.ts';
import {
  isAlchemistError,
  isBadRequestError,
  isCircuitOpenError,
  isOverloadedError,
  isRateLimitedError,
  isUpstreamError,
  isUpstreamTimeoutError,
} from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { observeStream } from '../core/result.ts';
import { getInstruments } from './instruments.ts';
import { modelLabel, OTHER_LABEL, providerLabel, routeLabel } from './labels.ts';
import {
  ATTR_CACHE_RESULT,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_HTTP_ROUTE,
  ATTR_OUTCOME,
} from './semconv.ts';

/** How a call ended, as recorded on `alchemist.request.duration` (`alchemist.outcome`). */
export type Outcome =
  | 'success'
  | 'client_error'
  | 'rate_limited'
  | 'overloaded'
  | 'circuit_open'
  | 'timeout'
  | 'upstream_error'
  | 'cancelled'
  | 'error';

export function outcomeOf(error: unknown): Outcome {
  if (isRateLimitedError(error)) return 'rate_limited';
  if (isOverloadedError(error)) return 'overloaded';
  if (isCircuitOpenError(error)) return 'circuit_open';
  if (isUpstreamTimeoutError(error)) return 'timeout';
  if (isUpstreamError(error))
    return error.status < 500 && error.status !== 429 ? 'client_error' : 'upstream_error';
  if (isBadRequestError(error) || (isAlchemistError(error) && error.status < 500)) return 'client_error';
  if (error instanceof Error && error.name === 'AbortError') return 'cancelled';
  return 'error';
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
    instruments.requestDuration.record((performance.now() - startedAt) / 1000, {
      [ATTR_CACHE_RESULT]: ctx.decisions.cacheResult ?? 'none',
      [ATTR_GEN_AI_REQUEST_MODEL]: modelLabel.get(ctx.model),
      [ATTR_GEN_AI_PROVIDER_NAME]: providerLabel.get(ctx.genAiProvider),
      [ATTR_OUTCOME]: outcome,
    });
  };
  return {
    /** Record the result; a stream is recorded when it finishes, and returned wrapped. */
    succeed(result: AiResult): AiResult {
      if (result.kind === 'json') {
        finish(result.status < 400 ? 'success' : result.status < 500 ? 'client_error' : 'upstream_error');
        return result;
      }
      const chunks = observeStream(
        result.chunks,
        () => {},
        ({ complete, error }) => finish(complete ? 'success' : error ? outcomeOf(error) : 'cancelled'),
      );
      return { ...result, chunks };
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
  getInstruments(meterProvider).requestDuration.record((performance.now() - startedAt) / 1000, {
    [ATTR_CACHE_RESULT]: 'none',
    [ATTR_GEN_AI_REQUEST_MODEL]: model === undefined ? OTHER_LABEL : modelLabel.get(model),
    [ATTR_GEN_AI_PROVIDER_NAME]: provider === undefined ? OTHER_LABEL : providerLabel.get(provider),
    [ATTR_OUTCOME]: 'client_error' satisfies Outcome,
  });
}
