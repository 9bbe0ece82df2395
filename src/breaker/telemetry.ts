import type { MeterProvider, Span } from '@opentelemetry/api';
import type { CallContext } from '../core/context.ts';
import { getInstruments } from '../telemetry/instruments.ts';
import { modelLabel, providerLabel } from '../telemetry/labels.ts';
import {
  ATTR_BREAKER_NAME,
  ATTR_BREAKER_STATE,
  ATTR_FALLBACK_MODEL,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_RETRY_REASON,
} from '../telemetry/semconv.ts';
import { addSpanEvent } from '../telemetry/spans.ts';
import type { BreakerState, BreakerTransition } from './circuit.ts';
import { BREAKER_STATES } from './circuit.ts';
import type { FailureReason } from './classify.ts';

/** Span event names (on the request span). */
export const EVENT_TRANSITION = 'alchemist.circuit_breaker.transition';
export const EVENT_REJECTED = 'alchemist.circuit_breaker.rejected';
export const EVENT_RETRY = 'alchemist.retry';
export const EVENT_FALLBACK = 'alchemist.fallback';
export const EVENT_TIMEOUT = 'alchemist.timeout';
export const EVENT_BULKHEAD_REJECTED = 'alchemist.bulkhead.rejected';

/** `alchemist.circuit_breaker.state`: 1 for the current state, 0 for the others. */
export function recordBreakerState(name: string, state: BreakerState, meterProvider?: MeterProvider): void {
  try {
    const gauge = getInstruments(meterProvider).breakerState;
    for (const candidate of BREAKER_STATES) {
      gauge.record(candidate === state ? 1 : 0, {
        [ATTR_BREAKER_NAME]: name,
        [ATTR_BREAKER_STATE]: candidate,
      });
    }
  } catch {
    // Telemetry never breaks the call.
  }
}

/** Gauge, transitions counter and a span event on the request span of the call that caused it. */
export function recordTransition(transition: BreakerTransition, meterProvider?: MeterProvider): void {
  recordBreakerState(transition.name, transition.to, meterProvider);
  try {
    getInstruments(meterProvider).breakerTransitions.add(1, {
      [ATTR_BREAKER_NAME]: transition.name,
      [ATTR_BREAKER_STATE]: transition.to,
    });
  } catch {
    // Telemetry never breaks the call.
  }
  if (transition.span) {
    addSpanEvent(transition.span, EVENT_TRANSITION, {
      [ATTR_BREAKER_NAME]: transition.name,
      [ATTR_BREAKER_STATE]: transition.to,
      'alchemist.circuit_breaker.from': transition.from,
      ...(transition.reason ? { [ATTR_RETRY_REASON]: transition.reason } : {}),
    });
  }
}

export function recordRetry(
  ctx: CallContext,
  retry: { attempt: number; delayMs: number; reason: FailureReason; retryAfterMs?: number },
  meterProvider?: MeterProvider,
): void {
  try {
    getInstruments(meterProvider).retryAttempts.add(1, {
      [ATTR_GEN_AI_REQUEST_MODEL]: modelLabel.get(ctx.model),
      [ATTR_GEN_AI_PROVIDER_NAME]: providerLabel.get(ctx.genAiProvider),
      [ATTR_RETRY_REASON]: retry.reason,
    });
  } catch {
    // Telemetry never breaks the call.
  }
  addSpanEvent(ctx.span, EVENT_RETRY, {
    'alchemist.retry.attempt': retry.attempt,
    'alchemist.retry.delay_ms': Math.round(retry.delayMs),
    [ATTR_RETRY_REASON]: retry.reason,
    [ATTR_GEN_AI_REQUEST_MODEL]: ctx.model,
    ...(retry.retryAfterMs === undefined ? {} : { 'alchemist.retry.retry_after_ms': retry.retryAfterMs }),
  });
}

/** A fallback candidate is about to be tried (span event). */
export function recordFallbackAttempt(span: Span, from: string, to: string, reason: string): void {
  addSpanEvent(span, EVENT_FALLBACK, {
    [ATTR_GEN_AI_REQUEST_MODEL]: from,
    [ATTR_FALLBACK_MODEL]: to,
    'alchemist.fallback.reason': reason,
  });
}

/** A fallback answered: `alchemist.fallback.requests`. */
export function recordFallbackAnswer(from: string, to: string, meterProvider?: MeterProvider): void {
  try {
    getInstruments(meterProvider).fallbacks.add(1, {
      [ATTR_GEN_AI_REQUEST_MODEL]: modelLabel.get(from),
      [ATTR_FALLBACK_MODEL]: modelLabel.get(to),
    });
  } catch {
    // Telemetry never breaks the call.
  }
}
