import type { RedisConnection } from '../redis/connection.ts';
import type { BudgetLedger, LedgerLevel, ReserveRequest, ReserveResult, SettleRequest } from './ledger.ts';

/**
 * Drop reservations whose holder is gone (a crashed process never settles): each is a member
 * `<leaseId>:<µUSD>` of the sorted set KEYS[2], scored by its expiry, and the hash KEYS[1] keeps their
 * sum in `reserved` beside the settled `spent`. Shared by the scripts below.
 */
const EXPIRE_LEASES = `
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
if #expired > 0 then
  local freed = 0
  for _, member in ipairs(expired) do freed = freed + tonumber(string.match(member, ':(%d+)$')) end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  reserved = redis.call('HINCRBY', KEYS[1], 'reserved', -freed)
end
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
`;

/**
 * Admit and hold a reservation, atomically per tenant and period: allowed while spent + every held
 * reservation + this cost ≤ budget. Both keys expire after the period (PEXPIREAT). Integers only
 * (µUSD), so sums are exact.
 *
 * KEYS: ledger hash, leases zset. ARGV: now ms, budget, cost, lease member, lease expiry ms, key expiry ms.
 */
export const RESERVE_SCRIPT = `${EXPIRE_LEASES}
local cost = tonumber(ARGV[3])
if spent + reserved + cost > tonumber(ARGV[2]) then return { 0, spent, reserved } end
if cost > 0 then
  redis.call('ZADD', KEYS[2], tonumber(ARGV[5]), ARGV[4])
  reserved = redis.call('HINCRBY', KEYS[1], 'reserved', cost)
  redis.call('PEXPIREAT', KEYS[1], ARGV[6])
  redis.call('PEXPIREAT', KEYS[2], ARGV[6])
end
return { 1, spent, reserved }
`;

/**
 * Release a reservation (when it is still held: an expired one was already dropped) and charge the
 * actual cost. KEYS as above. ARGV: now ms, lease member ('' = none), actual µUSD, key expiry ms.
 */
export const SETTLE_SCRIPT = `${EXPIRE_LEASES}
if ARGV[2] ~= '' and redis.call('ZREM', KEYS[2], ARGV[2]) == 1 then
  reserved = redis.call('HINCRBY', KEYS[1], 'reserved', -tonumber(string.match(ARGV[2], ':(%d+)$')))
end
local actual = tonumber(ARGV[3])
if actual > 0 then
  spent = redis.call('HINCRBY', KEYS[1], 'spent', actual)
  redis.call('PEXPIREAT', KEYS[1], ARGV[4])
end
return { spent, reserved }
`;

/** Read a ledger (dropping expired reservations). KEYS as above. ARGV: now ms. */
export const READ_SCRIPT = `${EXPIRE_LEASES}
return { spent, reserved }
`;

/** Keys outlive their period by this much, so instances with slightly skewed clocks agree. */
const EXPIRY_GRACE_MS = 3_600_000;

/**
 * Budgets in Redis, shared by every process using the same key prefix: one EVALSHA per decision.
 * Time (lease expiry, which period a call falls in) is the caller's clock, injected for tests: a
 * skew of seconds between instances shifts only when a crashed holder's reservation is dropped.
 */
export class RedisLedger implements BudgetLedger {
  readonly #redis: RedisConnection;
  readonly #leaseTtlMs: number;
  readonly #now: () => number;

  constructor(redis: RedisConnection, leaseTtlMs: number, now: () => number) {
    this.#redis = redis;
    this.#leaseTtlMs = leaseTtlMs;
    this.#now = now;
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const now = this.#now();
    const reply = (await this.#redis.evalScript(
      RESERVE_SCRIPT,
      [request.key, `${request.key}:leases`],
      [
        now,
        request.budget,
        request.cost,
        `${request.leaseId}:${request.cost}`,
        now + this.#leaseTtlMs,
        request.periodEndMs + EXPIRY_GRACE_MS,
      ],
    )) as unknown[];
    return { allowed: Number(reply[0]) === 1, spent: Number(reply[1]), reserved: Number(reply[2]) };
  }

  async settle(request: SettleRequest): Promise<LedgerLevel> {
    const member = request.reservedCost > 0 ? `${request.leaseId}:${request.reservedCost}` : '';
    const reply = (await this.#redis.evalScript(
      SETTLE_SCRIPT,
      [request.key, `${request.key}:leases`],
      [this.#now(), member, request.actual, request.periodEndMs + EXPIRY_GRACE_MS],
    )) as unknown[];
    return { spent: Number(reply[0]), reserved: Number(reply[1]) };
  }

  async read(key: string): Promise<LedgerLevel> {
    const reply = (await this.#redis.evalScript(
      READ_SCRIPT,
      [key, `${key}:leases`],
      [this.#now()],
    )) as unknown[];
    return { spent: Number(reply[0]), reserved: Number(reply[1]) };
  }
}
