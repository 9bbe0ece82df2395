import type { RedisConnection } from '../redis/connection.ts';
import type { AcquireRequest, AcquireResult, LimiterBackend, SettleRequest } from './backend.ts';
import type { BucketSnapshot } from './bucket.ts';
import { snapshot } from './bucket.ts';

/**
 * Atomic acquire across processes: every bucket and the concurrency slot, or nothing. Time is Redis
 * `TIME`, never the caller's clock, so instances with skewed clocks still share one timeline (a fast
 * clock would otherwise refill buckets early for everyone). Redis 7 replicates script effects, so a
 * non-deterministic `TIME` before writes is allowed. Levels come back as strings: Lua numbers returned
 * to Redis are truncated to integers.
 *
 * KEYS: bucket keys..., concurrency key (when ARGV[2] > 0)
 * ARGV: n buckets, lease TTL ms (0 = no concurrency), then per bucket capacity, perWindow, windowMs,
 *       cost; then max concurrent, lease id.
 */
export const ACQUIRE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[1])
local leaseTtl = tonumber(ARGV[2])
local denied = 0
local inflight = 0
local ckey = KEYS[n + 1]
if leaseTtl > 0 then
  redis.call('ZREMRANGEBYSCORE', ckey, '-inf', now)
  inflight = redis.call('ZCARD', ckey)
  if inflight >= tonumber(ARGV[3 + 4 * n]) then denied = 2 end
end
local levels = {}
for i = 1, n do
  local b = 2 + (i - 1) * 4
  local cap = tonumber(ARGV[b + 1])
  local per = tonumber(ARGV[b + 2])
  local win = tonumber(ARGV[b + 3])
  local cost = tonumber(ARGV[b + 4])
  local s = redis.call('HMGET', KEYS[i], 'v', 't')
  local level = cap
  if s[1] then
    local elapsed = now - tonumber(s[2])
    if elapsed < 0 then elapsed = 0 end
    level = tonumber(s[1]) + elapsed * per / win
    if level > cap then level = cap end
  end
  levels[i] = level
  if denied == 0 and level < cost then denied = 1 end
end
local out = { denied == 0 and 1 or 0, denied, inflight }
for i = 1, n do
  local b = 2 + (i - 1) * 4
  local level = levels[i]
  if denied == 0 then
    local cap = tonumber(ARGV[b + 1])
    local per = tonumber(ARGV[b + 2])
    local win = tonumber(ARGV[b + 3])
    level = level - tonumber(ARGV[b + 4])
    redis.call('HSET', KEYS[i], 'v', tostring(level), 't', now)
    redis.call('PEXPIRE', KEYS[i], math.ceil((cap - level) * win / per) + 1000)
  end
  out[#out + 1] = tostring(level)
end
if denied == 0 and leaseTtl > 0 then
  redis.call('ZADD', ckey, now + leaseTtl, ARGV[4 + 4 * n])
  redis.call('PEXPIRE', ckey, leaseTtl)
  out[3] = inflight + 1
end
return out
`;

/**
 * End a call in one round trip: release its lease (KEYS[2], ARGV[5] id, when given) and refund or
 * charge its bucket (KEYS[1], ARGV capacity, perWindow, windowMs, delta; when ARGV[1] ~= ''). Returns
 * the bucket's level, or false.
 */
export const SETTLE_SCRIPT = `
if ARGV[5] ~= '' then redis.call('ZREM', KEYS[2], ARGV[5]) end
if ARGV[1] == '' then return false end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cap = tonumber(ARGV[1])
local per = tonumber(ARGV[2])
local win = tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'v', 't')
local level = cap
if s[1] then
  local elapsed = now - tonumber(s[2])
  if elapsed < 0 then elapsed = 0 end
  level = tonumber(s[1]) + elapsed * per / win
end
level = level + tonumber(ARGV[4])
if level > cap then level = cap end
redis.call('HSET', KEYS[1], 'v', tostring(level), 't', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((cap - level) * win / per) + 1000)
return tostring(level)
`;

/**
 * Buckets and leases in Redis, shared by every process that uses the same key prefix. Every call is
 * one EVALSHA round trip; failures reject (fast, via the connection's bounds) and the caller falls back.
 */
export class RedisBackend implements LimiterBackend {
  readonly #redis: RedisConnection;
  readonly #leaseTtlMs: number;

  constructor(redis: RedisConnection, leaseTtlMs: number) {
    this.#redis = redis;
    this.#leaseTtlMs = leaseTtlMs;
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    const { buckets, concurrency } = request;
    const keys: string[] = [];
    const args: (string | number)[] = [buckets.length, concurrency ? this.#leaseTtlMs : 0];
    for (const bucket of buckets) {
      keys.push(bucket.key);
      args.push(bucket.spec.capacity, bucket.spec.perWindow, bucket.spec.windowMs, bucket.cost);
    }
    if (concurrency) {
      keys.push(concurrency.key);
      args.push(concurrency.max, concurrency.leaseId);
    }
    const reply = (await this.#redis.evalScript(ACQUIRE_SCRIPT, keys, args)) as unknown[];
    const allowed = Number(reply[0]) === 1;
    const deniedCode = Number(reply[1]);
    const snapshots: BucketSnapshot[] = buckets.map((bucket, i) =>
      snapshot(bucket.spec, Number(reply[3 + i]), bucket.cost),
    );
    const inFlight = Number(reply[2]);
    if (allowed) return { allowed, buckets: snapshots, inFlight };
    return { allowed, denied: deniedCode === 2 ? 'concurrency' : 'tier', buckets: snapshots, inFlight };
  }

  async settle(request: SettleRequest): Promise<BucketSnapshot | undefined> {
    const { bucket, lease } = request;
    const keys = [bucket?.key ?? lease?.key ?? '', lease?.key ?? bucket?.key ?? ''];
    const args = bucket
      ? [
          bucket.spec.capacity,
          bucket.spec.perWindow,
          bucket.spec.windowMs,
          bucket.delta,
          lease?.leaseId ?? '',
        ]
      : ['', '', '', '', lease?.leaseId ?? ''];
    const level = await this.#redis.evalScript(SETTLE_SCRIPT, keys, args);
    return bucket && typeof level === 'string' ? snapshot(bucket.spec, Number(level), 0) : undefined;
  }
}
