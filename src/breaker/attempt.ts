import type { Clock } from '../core/clock.ts';
import type { Next, Policy } from '../core/compose.ts';
import type { CallContext } from '../core/context.ts';
import { isCircuitOpenError, isOverloadedError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { observeStream } from '../core/result.ts';
import {
  ATTR_BREAKER_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
} from '../telemetry/semconv.ts';
import { addSpanEvent } from '../telemetry/spans.ts';
import type { Bulkheads } from './bulkhead.ts';
import { resultFailureReasonOf } from './classify.ts';
import type { Admission, BreakerRegistry, Verdict } from './registry.ts';
import { EVENT_BULKHEAD_REJECTED, EVENT_REJECTED, EVENT_TIMEOUT } from './telemetry.ts';
import type { AttemptTimeouts } from './timeout.ts';
import { runWithTimeouts } from './timeout.ts';

export interface AttemptSettings {
  readonly breakers: BreakerRegistry;
  readonly bulkheads: Bulkheads | undefined;
  /** Policies run inside the breaker, around the timed call (e.g. an outbound rate limiter). */
  readonly perAttempt: Policy<AiResult>;
  readonly timeouts: AttemptTimeouts;
  readonly clock: Clock;
}

const IGNORE: Verdict = { kind: 'ignore' };

/**
 * One upstream attempt: bulkhead( breakers( ...perAttempt( timeouts( next )))). The breakers see the
 * attempt's outcome; a stream that breaks after it was returned is counted as a late failure, and
 * holds its bulkhead slot until it ends.
 *
 * @param policySignal aborts the per-attempt policies too (the overall deadline)
 * @param totalMs this attempt's total deadline (the configured one, or what the overall deadline leaves)
 */
export function runAttempt(
  settings: AttemptSettings,
  ctx: CallContext,
  next: Next<AiResult>,
  policySignal: AbortSignal,
  totalMs: number,
): Promise<AiResult> {
  const timeouts = { ...settings.timeouts, totalMs: Math.min(settings.timeouts.totalMs, totalMs) };
  const onTimeout = (kind: string, afterMs: number) =>
    addSpanEvent(ctx.span, EVENT_TIMEOUT, {
      'alchemist.timeout.kind': kind,
      'alchemist.timeout.after_ms': Math.round(afterMs),
      [ATTR_GEN_AI_REQUEST_MODEL]: ctx.model,
    });

  const body = async () => {
    let admission: Admission;
    try {
      admission = settings.breakers.admit(ctx.provider, ctx.model, ctx.span);
    } catch (error) {
      if (isCircuitOpenError(error)) {
        addSpanEvent(ctx.span, EVENT_REJECTED, {
          [ATTR_BREAKER_NAME]: error.breaker,
          'alchemist.circuit_breaker.retry_after_s': error.retryAfter ?? 0,
        });
      }
      throw error;
    }
    let result: AiResult;
    try {
      result = await settings.perAttempt.execute({ ...ctx, signal: policySignal }, (inner) =>
        runWithTimeouts(inner, next, timeouts, settings.clock, { onTimeout }),
      );
    } catch (error) {
      // A caller who left teaches nothing about the provider.
      admission.settle(ctx.signal.aborted ? IGNORE : settings.breakers.verdictOf({ error }));
      throw error;
    }
    admission.settle(settings.breakers.verdictOf({ result }));
    return watchStream(settings, ctx, result, admission);
  };

  if (settings.bulkheads) {
    return settings.bulkheads.run(ctx.provider, ctx.signal, body).catch((error: unknown) => {
      if (isOverloadedError(error)) {
        addSpanEvent(ctx.span, EVENT_BULKHEAD_REJECTED, { [ATTR_GEN_AI_PROVIDER_NAME]: ctx.genAiProvider });
      }
      throw error;
    });
  }
  return body().then(({ value }) => value);
}

/** Hand a stream on, and learn how it ended: a mid-stream failure counts against the breakers. */
function watchStream(
  settings: AttemptSettings,
  ctx: CallContext,
  result: AiResult,
  admission: Admission,
): { value: AiResult; done: Promise<void> } {
  if (result.kind === 'json' || resultFailureReasonOf(result))
    return { value: result, done: Promise.resolve() };
  const done = Promise.withResolvers<void>();
  const chunks = observeStream(
    result.chunks,
    () => {},
    ({ complete, error }) => {
      if (!complete && error !== undefined && !ctx.signal.aborted) {
        admission.lateFailure(settings.breakers.verdictOf({ error }), ctx.span);
      }
      done.resolve();
    },
  );
  return { value: { ...result, chunks }, done: done.promise };
}
