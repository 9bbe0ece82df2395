export type { WithBreakerOptions } from '../wrap/breaker.ts';
export { withBreaker } from '../wrap/breaker.ts';
export type { BulkheadOptions, BulkheadSnapshot } from './bulkhead.ts';
export type {
  BreakerPermit,
  BreakerSnapshot,
  BreakerState,
  BreakerTransition,
  CircuitBreaker,
} from './circuit.ts';
export type { FailureReason } from './classify.ts';
export type { BreakerGuard, BreakerGuardOptions } from './guard.ts';
export { createBreakerGuard } from './guard.ts';
export type { Admission, BreakerMode, BreakerRegistry, BreakerRegistryOptions, Verdict } from './registry.ts';
export { createBreakerRegistry, OTHER_MODELS } from './registry.ts';
export type { BreakerConfig, Resilience, ResilienceOptions, ResilienceState } from './resilience.ts';
export { createResilience, resilienceOptionsFromConfig } from './resilience.ts';
