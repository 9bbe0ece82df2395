import type { MeterProvider, Span } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { AiResult } from '../core/result.ts';
import type { BreakerPermit, BreakerSnapshot, BreakerTransition } from './circuit.ts';
import { CircuitBreaker } from './circuit.ts';
import type { FailureReason } from './classify.ts';
import { failureReasonOf, isUpstreamClientError, resultFailureReasonOf } from './classify.ts';
import type { TripStrategy } from './strategies.ts';
import { consecutiveStrategy, samplingStrategy } from './strategies.ts';
import { recordBreakerState, recordTransition } from './telemetry.ts';
import { boolean, integerAtLeast, oneOf, positiveMs, ratio } from './validate.ts';

/** How a breaker decides to open. */
export type BreakerMode = 'consecutive' | 'sampling';

/** Options of `createBreakerRegistry()`: how every breaker of the registry behaves. */
export interface BreakerRegistryOptions {
  /** `consecutive`: N failures in a row; `sampling`: a failure ratio over a sliding window. @default 'consecutive' */
  mode?: BreakerMode;
  /** Consecutive mode: failures in a row that open a breaker. @default 5 */
  failureThreshold?: number;
  /** Sampling mode: failure ratio (0–1] at or above which a breaker opens. @default 0.5 */
  failureRatio?: number;
  /** Sampling mode: length of the sliding window, ms. @default 30000 */
  samplingWindowMs?: number;
  /** Sampling mode: calls the window must hold before the ratio counts (minimum throughput). @default 10 */
  minimumCalls?: number;
  /** How long an open breaker fails fast before letting one probe through, ms. @default 30000 */
  halfOpenAfterMs?: number;
  /** Whether a provider's 429 counts as a failure (it is retried either way). @default true */
  tripOn429?: boolean;
  /** Most breakers kept; past it, new models are guarded by their provider's breaker only. @default 256 */
  maxBreakers?: number;
  /** Time source for windows and half-open timers. @default systemClock (Date.now) */
  clock?: Clock;
  /** Where breaker metrics go. @default the global MeterProvider */
  meterProvider?: MeterProvider;
}

/** What one call taught the breakers. */
export type Verdict =
  | { readonly kind: 'success' | 'ignore' }
  | { readonly kind: 'failure'; readonly reason: FailureReason };

/**
 * One breaker per provider (`openai`) and per provider/model (`openai/gpt-4o`), created on first use
 * and shared by every route and policy that holds the registry. Create it once per process.
 */
export interface BreakerRegistry {
  /** The provider's breaker and, unless the cap was reached, the provider/model breaker. */
  breakersFor(provider: string, model: string): readonly CircuitBreaker[];
  /** A breaker by name, if it exists. */
  get(name: string): CircuitBreaker | undefined;
  /** Every breaker's state, for `/admin/stats` and the CLI. */
  snapshot(): BreakerSnapshot[];
  /** Classify an error thrown by, or a result returned from, an upstream attempt. */
  verdictOf(outcome: { error: unknown } | { result: AiResult }): Verdict;
  /** Listen to every breaker's transitions; returns a function that stops listening. */
  onStateChange(listener: (transition: BreakerTransition) => void): () => void;
}

const OWNER = 'createBreakerRegistry';

/**
 * Create the breaker registry (once per process) that `createResilience()`, `aiBreaker()` and
 * `withBreaker()` share, so a provider's failures seen on one route protect every route.
 *
 * @param [options.mode='consecutive'] `consecutive` or `sampling`
 * @param [options.failureThreshold=5] consecutive failures that open a breaker
 * @param [options.halfOpenAfterMs=30000] wait before a half-open probe
 * @example
 * const breakers = createBreakerRegistry({ failureThreshold: 5, halfOpenAfterMs: 30_000 });
 * app.post('/v1/chat/completions', aiHandler(callProvider, [createResilience({ breakers })]));
 * app.get('/admin/breakers', (c) => c.json(breakers.snapshot()));
 */
export function createBreakerRegistry(options: BreakerRegistryOptions = {}): BreakerRegistry {
  const mode = oneOf<BreakerMode>(OWNER, 'mode', options.mode ?? 'consecutive', ['consecutive', 'sampling']);
  const failureThreshold = integerAtLeast(OWNER, 'failureThreshold', options.failureThreshold ?? 5, 1);
  const sampling = {
    threshold: ratio(OWNER, 'failureRatio', options.failureRatio ?? 0.5),
    windowMs: positiveMs(OWNER, 'samplingWindowMs', options.samplingWindowMs ?? 30_000),
    minimumCalls: integerAtLeast(OWNER, 'minimumCalls', options.minimumCalls ?? 10, 1),
  };
  const halfOpenAfterMs = positiveMs(OWNER, 'halfOpenAfterMs', options.halfOpenAfterMs ?? 30_000);
  const tripOn429 = boolean(OWNER, 'tripOn429', options.tripOn429 ?? true);
  const maxBreakers = integerAtLeast(OWNER, 'maxBreakers', options.maxBreakers ?? 256, 1);
  const clock = options.clock ?? systemClock;
  const { meterProvider } = options;

  const breakers = new Map<string, CircuitBreaker>();
  const listeners = new Set<(transition: BreakerTransition) => void>();
  const strategy = (): TripStrategy =>
    mode === 'sampling' ? samplingStrategy(sampling, clock) : consecutiveStrategy(failureThreshold);

  const breaker = (name: string): CircuitBreaker | undefined => {
    const existing = breakers.get(name);
    if (existing || breakers.size >= maxBreakers) return existing;
    const created = new CircuitBreaker(name, {
      strategy: strategy(),
      halfOpenAfterMs,
      clock,
      onTransition(transition) {
        recordTransition(transition, meterProvider);
        for (const listener of listeners) {
          try {
            listener(transition);
          } catch {
            // A listener's bug must not break the breaker.
          }
        }
      },
    });
    breakers.set(name, created);
    recordBreakerState(name, 'closed', meterProvider);
    return created;
  };

  const verdictFor = (reason: FailureReason | undefined, answered: boolean): Verdict => {
    if (reason && (reason !== '429' || tripOn429)) return { kind: 'failure', reason };
    return answered || reason ? { kind: 'success' } : { kind: 'ignore' };
  };

  return {
    breakersFor(provider, model) {
      const found: CircuitBreaker[] = [];
      const byProvider = breaker(provider);
      if (byProvider) found.push(byProvider);
      const byModel = breaker(`${provider}/${model}`);
      if (byModel) found.push(byModel);
      return found;
    },
    get: (name) => breakers.get(name),
    snapshot: () => [...breakers.values()].map((b) => b.snapshot()),
    verdictOf(outcome) {
      if ('result' in outcome) return verdictFor(resultFailureReasonOf(outcome.result), true);
      const reason = failureReasonOf(outcome.error);
      return verdictFor(reason, reason === undefined && isUpstreamClientError(outcome.error));
    },
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Admit a call through several breakers (provider, then provider/model). If one is open, the permits
 * already taken are released and its `CircuitOpenError` is thrown: nothing is called.
 */
export function acquirePermits(breakers: readonly CircuitBreaker[], span?: Span): BreakerPermit[] {
  const permits: BreakerPermit[] = [];
  try {
    for (const breaker of breakers) permits.push(breaker.acquire(span));
  } catch (error) {
    for (const permit of permits) permit.ignore();
    throw error;
  }
  return permits;
}

/** Settle every permit with one verdict. */
export function settlePermits(permits: readonly BreakerPermit[], verdict: Verdict): void {
  for (const permit of permits) {
    if (verdict.kind === 'failure') permit.failure(verdict.reason);
    else if (verdict.kind === 'success') permit.success();
    else permit.ignore();
  }
}
