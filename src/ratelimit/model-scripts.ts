import type { RedisConnection } from '../redis/connection.ts';

/**
 * One model's limits in Redis, shared by every gateway instance: exact sliding windows (requests and
 * tokens, a ZSET of call id → admission time each), concurrency leases (a ZSET of call id → expiry,
 * so a crashed process's leases run out) and a pause set by provider feedback. Time is Redis `TIME`.
 * Keys share one hash tag per model, so a Redis Cluster keeps them on one slot (Lua needs it).
 *
 * KEYS: r (request window), t (token window), ta (tokens per call id), ts (token sum), c (leases), p (pause)
 * ARGV: id, windowMs, rpm, tpm, maxConcurrent (0 = none), cost, leaseTtlMs, n carried calls, then
 *       per carried call: id, ageMs, cost, leased (1/0).
 * Returns: admitted (1/0), why not ('' | 'paused' | 'concurrency' | 'requests' | 'tokens'), retry
 * ms (-1: only a release frees it), requests left, tokens left (-1 without the limit), leases held.
 *
 * A call id is admitted at most once: asking again answers "admitted" without counting it twice, and
 * carried calls (admitted by a process while it could not reach Redis) are added only if absent, so a
 * late reply to a timed-out attempt and the local admission that replaced it count as one call.
 */
export const ADMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[1]
local win = tonumber(ARGV[2])
local rpm = tonumber(ARGV[3])
local tpm = tonumber(ARGV[4])
local maxc = tonumber(ARGV[5])
local cost = tonumber(ARGV[6])
local ttl = tonumber(ARGV[7])
local carried = tonumber(ARGV[8])
for i = 0, carried - 1 do
  local b = 9 + i * 4
  local cid = ARGV[b]
  local age = tonumber(ARGV[b + 1])
  if age < win then
    if rpm > 0 then redis.call('ZADD', KEYS[1], 'NX', now - age, cid) end
    if tpm > 0 and redis.call('HSETNX', KEYS[3], cid, ARGV[b + 2]) == 1 then
      redis.call('ZADD', KEYS[2], now - age, cid)
      redis.call('INCRBY', KEYS[4], tonumber(ARGV[b + 2]))
    end
  end
  if maxc > 0 and ARGV[b + 3] == '1' then redis.call('ZADD', KEYS[5], 'NX', now + ttl, cid) end
end
local cutoff = now - win
if rpm > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff) end
if tpm > 0 then
  while true do
    local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', cutoff, 'LIMIT', 0, 500)
    if #old == 0 then break end
    local amounts = redis.call('HMGET', KEYS[3], unpack(old))
    local freed = 0
    for i = 1, #old do freed = freed + (tonumber(amounts[i]) or 0) end
    redis.call('ZREM', KEYS[2], unpack(old))
    redis.call('HDEL', KEYS[3], unpack(old))
    redis.call('DECRBY', KEYS[4], freed)
  end
end
if maxc > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now) end
local requests = rpm > 0 and redis.call('ZCARD', KEYS[1]) or 0
local tokens = tpm > 0 and tonumber(redis.call('GET', KEYS[4]) or '0') or 0
local leases = maxc > 0 and redis.call('ZCARD', KEYS[5]) or 0
local function reply(admitted, why, retry)
  return { admitted, why, retry, rpm > 0 and rpm - requests or -1, tpm > 0 and tpm - tokens or -1, leases }
end
if (maxc > 0 and redis.call('ZSCORE', KEYS[5], id)) or (rpm > 0 and redis.call('ZSCORE', KEYS[1], id))
  or (tpm > 0 and redis.call('HEXISTS', KEYS[3], id) == 1) then
  return reply(1, '', 0)
end
local paused = tonumber(redis.call('GET', KEYS[6]) or '0')
if paused > now then return reply(0, 'paused', paused - now) end
if maxc > 0 and leases >= maxc then return reply(0, 'concurrency', -1) end
if rpm > 0 and requests + 1 > rpm then
  local oldest = redis.call('ZRANGE', KEYS[1], requests - rpm, requests - rpm, 'WITHSCORES')
  return reply(0, 'requests', tonumber(oldest[2]) + win - now)
end
if tpm > 0 and tokens + cost > tpm then
  local excess = tokens + cost - tpm
  local from = 0
  while true do
    local entries = redis.call('ZRANGE', KEYS[2], from, from + 499, 'WITHSCORES')
    if #entries == 0 then return reply(0, 'tokens', win) end
    local ids = {}
    for i = 1, #entries, 2 do ids[#ids + 1] = entries[i] end
    local amounts = redis.call('HMGET', KEYS[3], unpack(ids))
    for i = 1, #ids do
      excess = excess - (tonumber(amounts[i]) or 0)
      if excess <= 0 then return reply(0, 'tokens', tonumber(entries[i * 2]) + win - now) end
    end
    from = from + 500
  end
end
if rpm > 0 then
  redis.call('ZADD', KEYS[1], now, id)
  redis.call('PEXPIRE', KEYS[1], win + 1000)
  requests = requests + 1
end
if tpm > 0 then
  redis.call('ZADD', KEYS[2], now, id)
  redis.call('HSET', KEYS[3], id, cost)
  redis.call('INCRBY', KEYS[4], cost)
  for k = 2, 4 do redis.call('PEXPIRE', KEYS[k], win + 1000) end
  tokens = tokens + cost
end
if maxc > 0 then
  redis.call('ZADD', KEYS[5], now + ttl, id)
  redis.call('PEXPIRE', KEYS[5], ttl)
  leases = leases + 1
end
return reply(1, '', 0)
`;

/**
 * End a call: free its lease, and when ARGV[2] is set, swap its token estimate for the actual count
 * (a call already out of the window is left alone). ARGV[3] = '1' withdraws the call entirely (it was
 * admitted but never made: its caller left while the reply was on its way).
 * KEYS: r, t, ta, ts, c. ARGV: id, actual tokens or '', withdraw.
 */
export const SETTLE_SCRIPT = `
redis.call('ZREM', KEYS[5], ARGV[1])
if ARGV[3] == '1' then redis.call('ZREM', KEYS[1], ARGV[1]) end
local old = redis.call('HGET', KEYS[3], ARGV[1])
if old and (ARGV[2] ~= '' or ARGV[3] == '1') then
  local actual = ARGV[3] == '1' and 0 or tonumber(ARGV[2])
  redis.call('HSET', KEYS[3], ARGV[1], actual)
  redis.call('INCRBY', KEYS[4], actual - tonumber(old))
end
return 1
`;

/**
 * Pause the model for ARGV[1] ms from Redis's now, unless a later pause is already set. Returns the
 * ms the pause still lasts. KEYS: p.
 */
export const PAUSE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilAt = now + math.ceil(tonumber(ARGV[1]))
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilAt > current then
  redis.call('SET', KEYS[1], untilAt, 'PX', untilAt - now)
  return untilAt - now
end
return current - now
`;

/** Why Redis said no: the scope the caller waits on. */
export type AdmitDenial = 'paused' | 'concurrency' | 'requests' | 'tokens';

export interface AdmitReply {
  readonly admitted: boolean;
  readonly denied?: AdmitDenial;
  /** Milliseconds until the call could pass; undefined when only a release can free it. */
  readonly retryMs?: number;
  readonly remainingRequests: number | undefined;
  readonly remainingTokens: number | undefined;
  /** Leases held for the model (all instances) after the decision. */
  readonly inFlight: number;
}

/** A call admitted by a process on its own while Redis was out of reach, for Redis to count later. */
export interface CarriedCall {
  readonly id: string;
  readonly ageMs: number;
  readonly cost: number;
  /** Still in flight: it holds a concurrency slot. */
  readonly leased: boolean;
}

/** Limits as Redis enforces them (whole numbers; 0 = no limit). */
export interface SharedLimits {
  readonly windowMs: number;
  readonly requestsPerMinute: number | undefined;
  readonly tokensPerMinute: number | undefined;
  readonly maxConcurrent: number | undefined;
  readonly leaseTtlMs: number;
}

/** The Redis side of one model's gate: admission, settlement and pauses, one EVALSHA each. */
export class RedisModelWindows {
  readonly #redis: RedisConnection;
  readonly #limits: SharedLimits;
  readonly #keys: string[];

  constructor(redis: RedisConnection, keyBase: string, limits: SharedLimits) {
    this.#redis = redis;
    this.#limits = limits;
    this.#keys = ['r', 't', 'ta', 'ts', 'c', 'p'].map((suffix) => `${keyBase}${suffix}`);
  }

  async admit(id: string, cost: number, carried: readonly CarriedCall[] = []): Promise<AdmitReply> {
    const { windowMs, requestsPerMinute, tokensPerMinute, maxConcurrent, leaseTtlMs } = this.#limits;
    const args: (string | number)[] = [
      id,
      windowMs,
      requestsPerMinute ?? 0,
      tokensPerMinute ?? 0,
      maxConcurrent ?? 0,
      Math.ceil(cost),
      leaseTtlMs,
      carried.length,
    ];
    for (const call of carried) {
      args.push(call.id, Math.max(0, Math.floor(call.ageMs)), Math.ceil(call.cost), call.leased ? 1 : 0);
    }
    const reply = (await this.#redis.evalScript(ADMIT_SCRIPT, this.#keys, args)) as unknown[];
    const denied = String(reply[1]) as AdmitDenial | '';
    const retryMs = Number(reply[2]);
    const remaining = (value: unknown) => (Number(value) < 0 ? undefined : Math.max(0, Number(value)));
    return {
      admitted: Number(reply[0]) === 1,
      ...(denied === '' ? {} : { denied }),
      ...(retryMs >= 0 && denied !== '' ? { retryMs } : {}),
      remainingRequests: remaining(reply[3]),
      remainingTokens: remaining(reply[4]),
      inFlight: Number(reply[5]),
    };
  }

  /** Free the call's lease and record its actual tokens (undefined: keep the estimate). */
  async settle(id: string, actualTokens: number | undefined, withdraw = false): Promise<void> {
    const actual = actualTokens === undefined ? '' : Math.ceil(actualTokens);
    await this.#redis.evalScript(SETTLE_SCRIPT, this.#keys.slice(0, 5), [id, actual, withdraw ? 1 : 0]);
  }

  /** Pause the model for every instance; resolves with how long the pause lasts now. */
  async pause(ms: number): Promise<number> {
    return Number(await this.#redis.evalScript(PAUSE_SCRIPT, [this.#keys[5]!], [Math.max(1, ms)]));
  }
}
