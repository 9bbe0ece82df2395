/** One reservation against a tenant's budget for one period. */
export interface ReserveRequest {
  /** Ledger key of the tenant and period (hash-tagged by tenant for Redis Cluster). */
  readonly key: string;
  /** The budget, µUSD. */
  readonly budget: number;
  /** Estimated cost to hold until settlement, µUSD. */
  readonly cost: number;
  /** Unique per call: the reservation released at settlement. */
  readonly leaseId: string;
  /** When the period ends (ms): the ledger entry expires after it. */
  readonly periodEndMs: number;
}

export interface ReserveResult {
  readonly allowed: boolean;
  /** Settled spend of the period, µUSD. */
  readonly spent: number;
  /** Every reservation held now (this one included when allowed), µUSD. */
  readonly reserved: number;
}

export interface SettleRequest {
  readonly key: string;
  readonly leaseId: string;
  /** What the reservation held, µUSD. */
  readonly reservedCost: number;
  /** What the call actually cost, µUSD (0: refund). */
  readonly actual: number;
  readonly periodEndMs: number;
}

export interface LedgerLevel {
  readonly spent: number;
  readonly reserved: number;
}

/**
 * Where spend is counted: this process (`LocalLedger`) or Redis (`RedisLedger`). `reserve` is atomic:
 * it admits the call and holds its estimate only while spent + reservations + estimate ≤ budget.
 */
export interface BudgetLedger {
  reserve(request: ReserveRequest): ReserveResult | Promise<ReserveResult>;
  /** Release the reservation and charge the actual cost in one step. */
  settle(request: SettleRequest): LedgerLevel | Promise<LedgerLevel>;
  /** Spend and reservations of one key now (expired reservations dropped). */
  read(key: string): LedgerLevel | Promise<LedgerLevel>;
}
