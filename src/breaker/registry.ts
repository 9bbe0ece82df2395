import type { MeterProvider, Span } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { AiResult } from '../core/result.ts';
import type { BreakerPermit, BreakerSnapshot, BreakerTransition } from './circuit.ts';
import { CircuitBreaker } from './circuit.ts';
import type { FailureReason } from './classify.ts';
import {
  failureReasonOf,
  isProviderLevelFailure,
  isUpstreamClientError,
  resultFailureReasonOf,
} from './classify.ts';
import type { TripStrategy } from './strategies.ts';
import { consecutiveStrategy, samplingStrategy, spanningStrategy } from './strategies.ts';
import { recordBreakerState, recordTransition } from './telemetry.ts';
import { boolean, integerAtLeast, oneOf, positiveMs, ratio } from './validate.ts';

/** How a breaker decides to open. */
export type BreakerMode = 'consecutive' | 'sampling';

/**
 * The model key of the breaker shared by a provider's models that have none of their own
 * (`openai/_OTHER`): models not listed in `models`, or past `maxBreakers`.
 */
export const OTHER_MODELS = '_OTHER';

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
  /**
   * Distinct failing models (or all of a provider's models, when it has fewer) at which failures are the
   * provider's and its provider-wide breaker may open; connection, DNS and TLS failures count at once.
   * @default 2
   */
  providerMinModels?: number;
  /**
   * The models that get their own breaker, by provider, created at once (their state and metric series
   * exist from the start). Any other model of a provider shares `<provider>/_OTHER`, so model names
   * chosen by clients never create state. List `OTHER_MODELS` for a provider that also serves unlisted
   * models to create its shared breaker up front. @default none: each model gets its own breaker on first use, up to `maxBreakers`
   */
  models?: Readonly<Record<string, readonly string[]>>;
  /** Whether a provider's 429 counts as a failure. A 429 is capacity (retried, and the outbound limiter pauses), not ill health. @default false */
  tripOn429?: boolean;
  /** Without `models`: most breakers created on first use; past it, new models share `<provider>/_OTHER`. @default 256 */
  maxBreakers?: number;
  /** Time source for windows and half-open timers. @default systemClock (Date.now) */
  clock?: Clock;
  /** Where breaker metrics go. @default the global MeterProvider */
  meterProvider?: MeterProvider;
}

/** What one call taught the breakers. */
export type Verdict =
  | { readonly kind: 'success' | 'ignore' }
  | { readonly kind: 'failure'; readonly reason: FailureReason; readonly providerLevel: boolean };

/** One call admitted by its provider's and its model's breaker: settle it exactly once. */
export interface Admission {
  /** Settle both breakers with what the attempt taught. */
  settle(verdict: Verdict): void;
  /** A stream that broke after it was settled: count the failure against both (closed) breakers. */
  lateFailure(verdict: Verdict, span?: Span): void;
}

/**
 * One breaker per provider (`openai`) and per provider/model (`openai/gpt-4o`), shared by every route
 * and policy that holds the registry. Create it once per process.
 */
export interface BreakerRegistry {
  /** The provider's breaker and the model's (its own, or the provider's shared `_OTHER` one). */
  breakersFor(provider: string, model: string): readonly CircuitBreaker[];
  /**
   * Admit a call through the provider's and the model's breaker, or throw the `CircuitOpenError` of
   * the first one that is open (nothing is called, no permit is left taken). `span` receives the
   * transition events the call causes.
   */
  admit(provider: string, model: string, span?: Span): Admission;
  /** A breaker by name, if it exists. */
  get(name: string): CircuitBreaker | undefined;
  /** Every breaker's state, for `/admin/stats` and the CLI. */
  snapshot(): BreakerSnapshot[];
  /** Classify an error thrown by, or a result returned from, an upstream attempt. */
  verdictOf(outcome: { error: unknown } | { result: AiResult }): Verdict;
  /** Listen to every breaker's transitions; returns a function that stops listening. */
  onStateChange(listener: (transition: BreakerTransition) => void): () => void;
  /**
   * Record every breaker's current state on `alchemist.circuit_breaker.state` again: call it once the
   * MeterProvider is set up, so breakers created before (the listed models') have their series.
   */
  recordStates(): void;
}

const OWNER = 'createBreakerRegistry';

interface ProviderBreakers {
  readonly breaker: CircuitBreaker;
  /** Model key → breaker; the keys are listed models, first-use models under the cap, and `_OTHER`. */
  readonly models: Map<string, CircuitBreaker>;
}

function declaredModels(value: unknown): Map<string, Set<string>> | undefined {
  if (value === undefined) return undefined;
  const bad = (detail: string): never => {
    throw new TypeError(`${OWNER}: 'models' must map provider names to lists of model names, ${detail}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(`got ${String(value)}`);
  const declared = new Map<string, Set<string>>();
  for (const [provider, list] of Object.entries(value as Record<string, unknown>)) {
    if (!Array.isArray(list) || list.some((model) => typeof model !== 'string' || model === '')) {
      bad(`got ${provider}: ${JSON.stringify(list)}`);
    }
    declared.set(provider, new Set(list as string[]));
  }
  return declared;
}

/**
 * Create the breaker registry (once per process) that `createResilience()`, `aiBreaker()` and
 * `withBreaker()` share, so a provider's failures seen on one route protect every route.
 *
 * A model's failures open its own provider/model breaker. The provider-wide breaker counts every
 * failure too, but opens only when they span the provider: a connection, DNS or TLS failure among
 * them, or `providerMinModels` distinct failing models (all of them, for a provider with fewer).
 *
 * @param [options.mode='consecutive'] `consecutive` or `sampling`
 * @param [options.failureThreshold=5] consecutive failures that open a breaker
 * @param [options.halfOpenAfterMs=30000] wait before a half-open probe
 * @param [options.providerMinModels=2] failing models that make failures the provider's
 * @param [options.models] models with their own breaker, by provider; others share `<provider>/_OTHER`
 * @example
 * const breakers = createBreakerRegistry({ failureThreshold: 5, models: { openai: ['gpt-4o', 'gpt-4o-mini'] } });
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
  const providerMinModels = integerAtLeast(OWNER, 'providerMinModels', options.providerMinModels ?? 2, 1);
  const declared = declaredModels(options.models);
  const tripOn429 = boolean(OWNER, 'tripOn429', options.tripOn429 ?? false);
  const maxBreakers = integerAtLeast(OWNER, 'maxBreakers', options.maxBreakers ?? 256, 1);
  const clock = options.clock ?? systemClock;
  const { meterProvider } = options;

  const byName = new Map<string, CircuitBreaker>();
  const providers = new Map<string, ProviderBreakers>();
  const listeners = new Set<(transition: BreakerTransition) => void>();
  const strategy = (): TripStrategy =>
    mode === 'sampling' ? samplingStrategy(sampling, clock) : consecutiveStrategy(failureThreshold);

  const create = (name: string, tripStrategy: TripStrategy): CircuitBreaker => {
    const created = new CircuitBreaker(name, {
      strategy: tripStrategy,
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
    byName.set(name, created);
    recordBreakerState(name, 'closed', meterProvider);
    return created;
  };

  // Provider names come from code or config (routing), never from the request, so they are not capped.
  const providerBreakers = (provider: string): ProviderBreakers => {
    const existing = providers.get(provider);
    if (existing) return existing;
    const models = new Map<string, CircuitBreaker>();
    const breaker = create(
      provider,
      spanningStrategy(strategy(), {
        minModels: () => Math.min(providerMinModels, Math.max(1, models.size)),
        windowMs: mode === 'sampling' ? sampling.windowMs : undefined,
        clock,
      }),
    );
    const entry = { breaker, models };
    providers.set(provider, entry);
    return entry;
  };

  const modelKey = (provider: string, entry: ProviderBreakers, model: string): string => {
    if (declared) return declared.get(provider)?.has(model) ? model : OTHER_MODELS;
    return entry.models.has(model) || byName.size < maxBreakers ? model : OTHER_MODELS;
  };

  const modelBreaker = (provider: string, entry: ProviderBreakers, key: string): CircuitBreaker => {
    const existing = entry.models.get(key);
    if (existing) return existing;
    const created = create(`${provider}/${key}`, strategy());
    entry.models.set(key, created);
    return created;
  };

  const resolve = (provider: string, model: string) => {
    const entry = providerBreakers(provider);
    const key = modelKey(provider, entry, model);
    return { key, provider: entry.breaker, model: modelBreaker(provider, entry, key) };
  };

  for (const [provider, models] of declared ?? []) {
    const entry = providerBreakers(provider);
    for (const model of models) modelBreaker(provider, entry, model);
  }

  const verdictFor = (reason: FailureReason | undefined, answered: boolean, error?: unknown): Verdict => {
    if (reason && (reason !== '429' || tripOn429)) {
      return { kind: 'failure', reason, providerLevel: error !== undefined && isProviderLevelFailure(error) };
    }
    return answered || reason ? { kind: 'success' } : { kind: 'ignore' };
  };

  return {
    breakersFor(provider, model) {
      const found = resolve(provider, model);
      return [found.provider, found.model];
    },
    admit(provider, model, span) {
      const found = resolve(provider, model);
      const byProvider = found.provider.acquire(span);
      let byModel: BreakerPermit;
      try {
        byModel = found.model.acquire(span);
      } catch (error) {
        byProvider.ignore();
        throw error;
      }
      const permits = [byProvider, byModel];
      const detail = (verdict: Verdict & { kind: 'failure' }) => ({
        model: found.key,
        providerLevel: verdict.providerLevel,
      });
      return {
        settle(verdict) {
          for (const permit of permits) {
            if (verdict.kind === 'failure') permit.failure(verdict.reason, detail(verdict));
            else if (verdict.kind === 'success') permit.success();
            else permit.ignore();
          }
        },
        lateFailure(verdict, lateSpan) {
          if (verdict.kind !== 'failure') return;
          for (const permit of permits)
            permit.breaker.recordFailure(verdict.reason, lateSpan, detail(verdict));
        },
      };
    },
    get: (name) => byName.get(name),
    snapshot: () => [...byName.values()].map((b) => b.snapshot()),
    verdictOf(outcome) {
      if ('result' in outcome) return verdictFor(resultFailureReasonOf(outcome.result), true);
      const reason = failureReasonOf(outcome.error);
      return verdictFor(reason, reason === undefined && isUpstreamClientError(outcome.error), outcome.error);
    },
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    recordStates() {
      for (const [name, breaker] of byName) recordBreakerState(name, breaker.state, meterProvider);
    },
  };
}
