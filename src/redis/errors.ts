import { AlchemistError, type ErrorOptions } from '../core/errors.ts';

const TAG = Symbol.for('alchemist-perf.StoreUnavailableError');

/** Why a store call failed fast. */
export type StoreUnavailableReason =
  | 'offline'
  | 'breaker_open'
  | 'timeout'
  | 'overdue'
  | 'refused'
  | 'connection'
  | 'closed';

/**
 * The shared store (Redis) cannot answer right now: it is down, its breaker is open, a command took
 * longer than the bound (`timeout`) or an earlier one still has not answered (`overdue`), or it
 * refuses writes (`refused`: OOM, READONLY). Callers degrade (memory cache, local limits); it maps to 503 only if it
 * ever escapes to a client.
 */
export class StoreUnavailableError extends AlchemistError {
  readonly [TAG] = true;
  readonly reason: StoreUnavailableReason;
  constructor(reason: StoreUnavailableReason, options?: ErrorOptions) {
    super(`Redis is unavailable (${reason})`, 503, 'service_unavailable', 'store_unavailable', options);
    this.reason = reason;
  }
}

/** True for a StoreUnavailableError from any copy of the package. */
export function isStoreUnavailableError(value: unknown): value is StoreUnavailableError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TAG] === true;
}
