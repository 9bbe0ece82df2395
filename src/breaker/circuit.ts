import type { Span } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import { CircuitOpenError } from '../core/errors.ts';
import type { FailureReason } from './classify.ts';
import type { FailureDetail, TripStrategy } from './strategies.ts';

/** The states a breaker can be in; these values go on spans and metrics as they are. */
export type BreakerState = 'closed' | 'open' | 'half_open';

export const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half_open'];

/** Internal state, a discriminated union: only an open breaker has a half-open time. */
type Internal =
  | { readonly state: 'closed' }
  | { readonly state: 'open'; readonly openedAt: number; readonly halfOpenAt: number }
  | { readonly state: 'half_open'; probing: boolean };

/** A breaker's state as a plain object, for `/admin/stats` and the CLI. Times are the clock's ms. */
export interface BreakerSnapshot {
  readonly name: string;
  readonly state: BreakerState;
  /** Failures counted toward opening (consecutive, or in the sampling window). */
  readonly failures: number;
  /** Calls in the sampling window (consecutive mode: same as failures). */
  readonly calls: number;
  /** When the breaker last opened. */
  readonly openedAt?: number;
  /** When an open breaker lets one probe through. */
  readonly nextHalfOpenAt?: number;
  /** Seconds until then (what a 503's `Retry-After` says). */
  readonly retryAfterSeconds?: number;
  /** Why the last counted failure failed. */
  readonly lastFailure?: FailureReason;
  /** Times this breaker opened since it was created. */
  readonly opens: number;
}

/** A state change, as telemetry and listeners see it. */
export interface BreakerTransition {
  readonly name: string;
  readonly from: BreakerState;
  readonly to: BreakerState;
  /** The failure that opened the breaker. */
  readonly reason?: FailureReason;
  /** The request span of the call that caused the change, if any. */
  readonly span?: Span;
}

/** Admission for one call: settle it exactly once with what happened. */
export interface BreakerPermit {
  readonly breaker: CircuitBreaker;
  /** The provider answered (a 4xx caller error counts: the provider is up). */
  success(): void;
  /** The provider failed in a way that counts; `detail` says on which model and whether provider-wide. */
  failure(reason: FailureReason, detail?: FailureDetail): void;
  /** Nothing learned (the caller left, a local limit said no): frees a half-open probe slot. */
  ignore(): void;
}

export interface CircuitBreakerSettings {
  readonly strategy: TripStrategy;
  readonly halfOpenAfterMs: number;
  readonly clock: Clock;
  readonly onTransition?: (transition: BreakerTransition) => void;
}

/**
 * A circuit breaker: closed → open when the strategy says so; open → half-open once `halfOpenAfterMs`
 * passed, admitting exactly one probe while every other call fails fast; the probe's success closes
 * it, its failure reopens it for another `halfOpenAfterMs`. Time comes from the injected clock.
 */
export class CircuitBreaker {
  readonly name: string;
  readonly #settings: CircuitBreakerSettings;
  readonly #listeners = new Set<(transition: BreakerTransition) => void>();
  #state: Internal = { state: 'closed' };
  /** Bumped on every transition, so permits issued in an earlier state cannot settle a later one. */
  #generation = 0;
  #opens = 0;
  #lastFailure: FailureReason | undefined;

  constructor(name: string, settings: CircuitBreakerSettings) {
    this.name = name;
    this.#settings = settings;
  }

  get state(): BreakerState {
    return this.#settled().state;
  }

  /**
   * The state now: an open breaker whose half-open time has passed is half-open (its next call is the
   * probe) even before a call arrives, so `/readyz` and the stats stop calling it open.
   */
  #settled(): Internal {
    const state = this.#state;
    if (state.state === 'open' && this.#settings.clock.now() >= state.halfOpenAt) {
      this.#transition({ state: 'half_open', probing: false }, undefined);
    }
    return this.#state;
  }

  /** Listen to state changes; returns a function that stops listening. */
  onStateChange(listener: (transition: BreakerTransition) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Admit a call or throw `CircuitOpenError` (with `retryAfter` = seconds until half-open) without
   * calling anything. `span` receives transition events this call causes.
   */
  acquire(span?: Span): BreakerPermit {
    const state = this.#state;
    const now = this.#settings.clock.now();
    if (state.state === 'open') {
      if (now < state.halfOpenAt) {
        throw new CircuitOpenError(this.name, { retryAfter: Math.max(1, (state.halfOpenAt - now) / 1000) });
      }
      this.#transition({ state: 'half_open', probing: true }, span);
      return this.#permit(true, span);
    }
    if (state.state === 'half_open') {
      // One probe at a time: the others fail fast (and may be served stale or by a fallback).
      if (state.probing) throw new CircuitOpenError(this.name, { retryAfter: 1 });
      state.probing = true;
      return this.#permit(true, span);
    }
    return this.#permit(false, span);
  }

  /**
   * Count a failure found after the call was settled (a stream that broke mid-way). Only a closed
   * breaker counts it; a half-open one is judged by its probe alone.
   */
  recordFailure(reason: FailureReason, span?: Span, detail: FailureDetail = {}): void {
    if (this.#state.state !== 'closed') return;
    this.#lastFailure = reason;
    if (this.#settings.strategy.failure(detail)) this.#open(reason, span);
  }

  snapshot(): BreakerSnapshot {
    const state = this.#settled();
    const counts = this.#settings.strategy.counts();
    const base = {
      name: this.name,
      state: state.state,
      failures: counts.failures,
      calls: counts.calls,
      opens: this.#opens,
      ...(this.#lastFailure ? { lastFailure: this.#lastFailure } : {}),
    };
    if (state.state !== 'open') return base;
    const wait = Math.max(0, state.halfOpenAt - this.#settings.clock.now());
    return {
      ...base,
      openedAt: state.openedAt,
      nextHalfOpenAt: state.halfOpenAt,
      retryAfterSeconds: Math.ceil(wait / 1000),
    };
  }

  #permit(probe: boolean, span: Span | undefined): BreakerPermit {
    const generation = this.#generation;
    let settled = false;
    const current = () => {
      if (settled) return false;
      settled = true;
      return this.#generation === generation;
    };
    return {
      breaker: this,
      success: () => {
        if (!current()) {
          // A closed-state success after the breaker moved on still proves the provider answers,
          // but only the probe decides a half-open breaker.
          return;
        }
        if (probe) {
          this.#settings.strategy.reset();
          this.#transition({ state: 'closed' }, span);
        } else {
          this.#settings.strategy.success();
        }
      },
      failure: (reason, detail = {}) => {
        if (!current()) return;
        this.#lastFailure = reason;
        const { strategy } = this.#settings;
        if (!probe) {
          if (strategy.failure(detail)) this.#open(reason, span);
        } else if (strategy.probeFailed?.(detail) ?? true) {
          this.#open(reason, span);
        } else if (this.#state.state === 'half_open') {
          // Not enough to reopen (one model's failure on a provider breaker): the next call probes.
          this.#state.probing = false;
        }
      },
      ignore: () => {
        if (!current()) return;
        if (probe && this.#state.state === 'half_open') this.#state.probing = false;
      },
    };
  }

  #open(reason: FailureReason, span: Span | undefined): void {
    const openedAt = this.#settings.clock.now();
    this.#opens++;
    this.#settings.strategy.opened?.();
    this.#transition(
      { state: 'open', openedAt, halfOpenAt: openedAt + this.#settings.halfOpenAfterMs },
      span,
      reason,
    );
  }

  #transition(next: Internal, span: Span | undefined, reason?: FailureReason): void {
    const from = this.#state.state;
    this.#state = next;
    this.#generation++;
    const transition: BreakerTransition = {
      name: this.name,
      from,
      to: next.state,
      ...(reason ? { reason } : {}),
      ...(span ? { span } : {}),
    };
    try {
      this.#settings.onTransition?.(transition);
    } catch {
      // Telemetry never breaks the call.
    }
    for (const listener of this.#listeners) {
      try {
        listener(transition);
      } catch {
        // A listener's bug must not break the breaker.
      }
    }
  }
}
