import { diag } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import type { RedisConnection } from '../redis/connection.ts';
import type { AcquireRequest, AcquireResult, LimiterBackend } from './backend.ts';
import { LocalBackend } from './local-backend.ts';
import { RedisBackend } from './redis-backend.ts';

/**
 * Where limits are enforced right now: `local` (no Redis configured), `redis` (global across
 * processes), or `local-fallback` (Redis configured but unavailable: per-process limits).
 */
export type LimiterMode = 'local' | 'redis' | 'local-fallback';

/** For `/readyz` and the admin API. */
export interface RateLimiterState {
  readonly mode: LimiterMode;
  /** True while Redis is configured but the limits are per-process. */
  readonly degraded: boolean;
}

/** The decision and the backend that made it (settlement and release must go to the same one). */
export interface Acquired {
  readonly result: AcquireResult;
  readonly backend: LimiterBackend;
  readonly mode: LimiterMode;
}

/**
 * Chooses the backend per call: Redis while it is available, else this process with the fallback
 * limits. Never waits on a down Redis: the connection rejects fast (no offline queue, command
 * timeout, breaker), `available` is checked first, and any failure is answered locally.
 */
export class SharedLimiter {
  readonly #local: LocalBackend;
  readonly #redis: RedisBackend | undefined;
  readonly #connection: RedisConnection | undefined;
  #mode: LimiterMode;

  constructor(options: { clock: Clock; redis?: RedisConnection; leaseTtlMs: number }) {
    this.#local = new LocalBackend(options.clock);
    this.#connection = options.redis;
    this.#redis = options.redis ? new RedisBackend(options.redis, options.leaseTtlMs) : undefined;
    this.#mode = options.redis ? (options.redis.available ? 'redis' : 'local-fallback') : 'local';
    options.redis?.onAvailabilityChange((available) => {
      if (available) this.#setMode('redis');
      else this.#setMode('local-fallback');
    });
  }

  get distributed(): boolean {
    return this.#redis !== undefined;
  }

  state(): RateLimiterState {
    return { mode: this.#mode, degraded: this.#mode === 'local-fallback' };
  }

  #setMode(mode: LimiterMode): void {
    if (mode === this.#mode) return;
    this.#mode = mode;
    diag.warn(
      mode === 'redis'
        ? 'alchemist-perf: rate limits are global again (Redis available)'
        : 'alchemist-perf: Redis unavailable, rate limits fall back to per-process limits',
    );
  }

  /**
   * Take what `build(fallback)` asks for. `fallback` is true when the local backend stands in for
   * Redis, so the caller can ask for the divided limits.
   */
  async acquire(build: (fallback: boolean) => AcquireRequest): Promise<Acquired> {
    const connection = this.#connection;
    if (this.#redis && connection?.available) {
      try {
        const result = await this.#redis.acquire(build(false));
        this.#setMode('redis');
        return { result, backend: this.#redis, mode: 'redis' };
      } catch (error) {
        diag.debug(`alchemist-perf: rate limit via Redis failed: ${(error as Error)?.name ?? 'error'}`);
        this.#setMode('local-fallback');
      }
    }
    const mode: LimiterMode = this.#redis ? 'local-fallback' : 'local';
    if (this.#redis) this.#setMode('local-fallback');
    return { result: this.#local.acquire(build(mode === 'local-fallback')), backend: this.#local, mode };
  }
}
