import type { Clock } from '../core/clock.ts';
import type { BudgetLedger, LedgerLevel, ReserveRequest, ReserveResult, SettleRequest } from './ledger.ts';

interface Entry {
  spent: number;
  readonly leases: Map<string, number>;
  reserved: number;
  /** The allowance while standing in for Redis (see `seed`); the budget otherwise. */
  allowance: number | undefined;
  readonly periodEndMs: number;
}

/**
 * Spend in this process. Synchronous: a decision is a few Map operations. Entries are dropped once
 * their period has ended (swept as the map grows), so memory is bounded by the tenants active in the
 * current period. A process holding a reservation is alive by definition (settlement always runs),
 * so local reservations need no expiry.
 *
 * While it stands in for an unavailable Redis, `seed()` gives it the spend last read from Redis, so a
 * tenant over budget stays over, and each of `instances` processes may spend its share of what was
 * left; `owe()` records what it charged meanwhile and `drainUnsynced()` hands it to the store, which
 * adds it to Redis on recovery.
 */
export class LocalLedger implements BudgetLedger {
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();
  readonly #unsynced = new Map<string, { micros: number; periodEndMs: number }>();
  readonly #instances: number;
  readonly #sweepAbove: number;
  #nextSweep: number;

  constructor(clock: Clock, options: { instances?: number; sweepAbove?: number } = {}) {
    this.#clock = clock;
    this.#instances = options.instances ?? 1;
    this.#sweepAbove = options.sweepAbove ?? 10_000;
    this.#nextSweep = this.#sweepAbove;
  }

  get size(): number {
    return this.#entries.size;
  }

  #entry(key: string, periodEndMs: number): Entry {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = { spent: 0, leases: new Map(), reserved: 0, allowance: undefined, periodEndMs };
      this.#entries.set(key, entry);
      if (this.#entries.size > this.#nextSweep) this.#sweep();
    }
    return entry;
  }

  /** Start a fallback entry from the spend Redis last reported, with this process' share of the rest. */
  seed(key: string, spent: number, budget: number, periodEndMs: number): void {
    if (this.#entries.has(key)) return;
    const entry = this.#entry(key, periodEndMs);
    entry.spent = spent;
    entry.allowance = spent + Math.max(0, budget - spent) / this.#instances;
  }

  reserve(request: ReserveRequest): ReserveResult {
    const entry = this.#entry(request.key, request.periodEndMs);
    const limit = Math.min(request.budget, entry.allowance ?? request.budget);
    if (entry.spent + entry.reserved + request.cost > limit) {
      return { allowed: false, spent: entry.spent, reserved: entry.reserved };
    }
    if (request.cost > 0) {
      entry.leases.set(request.leaseId, request.cost);
      entry.reserved += request.cost;
    }
    return { allowed: true, spent: entry.spent, reserved: entry.reserved };
  }

  settle(request: SettleRequest): LedgerLevel {
    const entry = this.#entry(request.key, request.periodEndMs);
    const held = entry.leases.get(request.leaseId);
    if (held !== undefined) {
      entry.leases.delete(request.leaseId);
      entry.reserved -= held;
    }
    entry.spent += request.actual;
    return { spent: entry.spent, reserved: entry.reserved };
  }

  read(key: string): LedgerLevel {
    const entry = this.#entries.get(key);
    return entry ? { spent: entry.spent, reserved: entry.reserved } : { spent: 0, reserved: 0 };
  }

  /** Record a charge Redis must still receive (made while it was down). */
  owe(key: string, micros: number, periodEndMs: number): void {
    if (micros <= 0) return;
    const owed = this.#unsynced.get(key);
    this.#unsynced.set(key, { micros: (owed?.micros ?? 0) + micros, periodEndMs });
  }

  /** Take the charges owed to Redis (and forget the fallback entries: Redis is the truth again). */
  drainUnsynced(): [string, { micros: number; periodEndMs: number }][] {
    const owed = [...this.#unsynced].filter(([, value]) => value.periodEndMs > this.#clock.now());
    this.#unsynced.clear();
    for (const [key, entry] of this.#entries) if (entry.leases.size === 0) this.#entries.delete(key);
    return owed;
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const [key, entry] of this.#entries) if (entry.periodEndMs <= now) this.#entries.delete(key);
    // Sweep again only after the map doubles from what is left: amortised O(1) per new entry.
    this.#nextSweep = Math.max(this.#sweepAbove, this.#entries.size * 2);
  }
}
