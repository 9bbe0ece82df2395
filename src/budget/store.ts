import type { Clock } from '../core/clock.ts';
import type { LimiterMode, RateLimiterState } from '../ratelimit/limiter.ts';
import type { RedisConnection } from '../redis/connection.ts';
import { diagLogger, type RedisLogger } from '../redis/failures.ts';
import type { BudgetLedger, LedgerLevel, ReserveRequest, ReserveResult, SettleRequest } from './ledger.ts';
import { LocalLedger } from './local-ledger.ts';
import { RedisLedger } from './redis-ledger.ts';

/** A reservation and the ledger that holds it (settlement must go to the same one). */
export interface Reserved {
  readonly result: ReserveResult;
  readonly ledger: BudgetLedger;
  readonly mode: LimiterMode;
}

/**
 * Chooses the ledger per call, as the tier limiter chooses its backend: Redis while it is available,
 * else this process (`local-fallback`, seeded with the spend Redis last reported). Never waits on a
 * down Redis (the connection rejects fast). The mode change is logged once per transition; charges
 * made locally meanwhile are added to Redis when it is back, so no spend is forgotten.
 */
export class BudgetStore {
  readonly #local: LocalLedger;
  readonly #redis: RedisLedger | undefined;
  readonly #connection: RedisConnection | undefined;
  readonly #logger: RedisLogger;
  /** Spend last read from Redis per key (bounded: the local ledger sweeps, this map is capped). */
  readonly #lastSeen = new Map<string, number>();
  #mode: LimiterMode;

  constructor(options: {
    clock: Clock;
    redis?: RedisConnection;
    leaseTtlMs: number;
    instances: number;
    logger?: RedisLogger;
  }) {
    const { clock, redis } = options;
    this.#logger = options.logger ?? diagLogger;
    this.#local = new LocalLedger(clock, { instances: options.instances });
    this.#connection = redis;
    this.#redis = redis ? new RedisLedger(redis, options.leaseTtlMs, () => clock.now()) : undefined;
    this.#mode = redis ? (redis.available ? 'redis' : 'local-fallback') : 'local';
    redis?.onAvailabilityChange((available) => {
      this.#setMode(available ? 'redis' : 'local-fallback');
      if (available) void this.#flush();
    });
  }

  state(): RateLimiterState {
    return { mode: this.#mode, degraded: this.#mode === 'local-fallback' };
  }

  #setMode(mode: LimiterMode): void {
    if (mode === this.#mode) return;
    this.#mode = mode;
    if (mode === 'redis') this.#logger.info('budgets are shared again (Redis available)');
    else this.#logger.warn('Redis unavailable: budgets are counted per process until it is back');
  }

  #remember(key: string, spent: number): void {
    this.#lastSeen.delete(key);
    this.#lastSeen.set(key, spent);
    if (this.#lastSeen.size > 10_000) this.#lastSeen.delete(this.#lastSeen.keys().next().value as string);
  }

  async reserve(request: ReserveRequest): Promise<Reserved> {
    if (this.#redis && this.#connection?.available) {
      try {
        const result = await this.#redis.reserve(request);
        this.#setMode('redis');
        this.#remember(request.key, result.spent);
        return { result, ledger: this.#redis, mode: 'redis' };
      } catch {
        // The connection logs the failure itself (once per kind); here only the mode changes.
        this.#setMode('local-fallback');
      }
    }
    if (!this.#redis) return { result: this.#local.reserve(request), ledger: this.#local, mode: 'local' };
    this.#setMode('local-fallback');
    this.#local.seed(request.key, this.#lastSeen.get(request.key) ?? 0, request.budget, request.periodEndMs);
    return { result: this.#local.reserve(request), ledger: this.#local, mode: 'local-fallback' };
  }

  /** Settle on the ledger that reserved; a charge Redis could not take is owed to it until it is back. */
  async settle(ledger: BudgetLedger, request: SettleRequest): Promise<LedgerLevel | undefined> {
    if (ledger === this.#redis) {
      try {
        const level = await this.#redis.settle(request);
        this.#remember(request.key, level.spent);
        return level;
      } catch {
        // The reservation expires in Redis with its lease; the charge waits here.
        this.#local.owe(request.key, request.actual, request.periodEndMs);
        return undefined;
      }
    }
    const level = this.#local.settle(request);
    if (this.#redis) {
      this.#local.owe(request.key, request.actual, request.periodEndMs);
      if (this.#connection?.available) await this.#flush();
    }
    return level;
  }

  /** Spend of one key now: from Redis when it answers, else what this process knows. */
  async read(key: string): Promise<LedgerLevel & { mode: LimiterMode }> {
    if (this.#redis && this.#connection?.available) {
      try {
        return { ...(await this.#redis.read(key)), mode: 'redis' };
      } catch {
        // Answered locally below.
      }
    }
    const local = this.#local.read(key);
    if (!this.#redis) return { ...local, mode: 'local' };
    return {
      spent: Math.max(local.spent, this.#lastSeen.get(key) ?? 0),
      reserved: local.reserved,
      mode: 'local-fallback',
    };
  }

  /** Add what was charged locally while Redis was down. */
  async #flush(): Promise<void> {
    const redis = this.#redis;
    if (!redis) return;
    for (const [key, owed] of this.#local.drainUnsynced()) {
      try {
        await redis.settle({
          key,
          leaseId: '',
          reservedCost: 0,
          actual: owed.micros,
          periodEndMs: owed.periodEndMs,
        });
      } catch {
        this.#local.owe(key, owed.micros, owed.periodEndMs);
      }
    }
  }
}
