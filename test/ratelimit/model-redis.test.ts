import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isOverloadedError, UpstreamError } from '../../src/core/errors.ts';
import { jsonResult } from '../../src/core/result.ts';
import { modelRateLimitPolicy } from '../../src/ratelimit/model-policy.ts';
import type { SharedLimits } from '../../src/ratelimit/model-scripts.ts';
import { RedisModelWindows } from '../../src/ratelimit/model-scripts.ts';
import type { RedisConnection } from '../../src/redis/connection.ts';
import { createRedisConnection } from '../../src/redis/connection.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { ctxFor, jsonUpstream } from './helpers.ts';

// The shared model limits on a real Redis: the admission, settle and pause scripts (windows, leases,
// pauses, call ids counted once), then two policies (two "instances") sharing one limit, and the
// fallback to each one's share while Redis is down, with the calls it admitted alone counted by
// Redis once it is back.

let server: RedisServer;
let redis: RedisConnection;
const connections: RedisConnection[] = [];
let keyCounter = 0;

beforeAll(async () => {
  server = await startRedis();
  redis = await connect();
});
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await server?.stop();
});

async function connect(): Promise<RedisConnection> {
  const connection = createRedisConnection({
    url: server.url,
    commandTimeoutMs: 2000,
    breakerCooldownMs: 100,
  });
  connections.push(connection);
  await until(() => connection.available, 'Redis connection');
  return connection;
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const WINDOW = 60_000;

function windows(limits: Partial<SharedLimits>): RedisModelWindows {
  return new RedisModelWindows(redis, `test:model:{m${++keyCounter}}:`, {
    windowMs: WINDOW,
    requestsPerMinute: undefined,
    tokensPerMinute: undefined,
    maxConcurrent: undefined,
    leaseTtlMs: 60_000,
    ...limits,
  });
}

describe('the model admission script', () => {
  it('admits exactly the request limit per window and says when the oldest call leaves it', async () => {
    const gate = windows({ requestsPerMinute: 3 });
    // Calls admitted 50 s, 40 s and 10 s ago (carried, as an instance without Redis would send them).
    const first = await gate.admit('a', 0, [
      { id: 'old-1', ageMs: 50_000, cost: 0, leased: false },
      { id: 'old-2', ageMs: 40_000, cost: 0, leased: false },
      { id: 'gone', ageMs: WINDOW, cost: 0, leased: false },
    ]);
    expect(first).toMatchObject({ admitted: true, remainingRequests: 0 });
    const denied = await gate.admit('b', 0);
    expect(denied).toMatchObject({ admitted: false, denied: 'requests', remainingRequests: 0 });
    // The oldest call (50 s ago) leaves the window in 10 s (Redis time moved a few ms since).
    expect(denied.retryMs).toBeGreaterThan(9_000);
    expect(denied.retryMs).toBeLessThanOrEqual(10_000);
  });

  it('counts a call id once: asked again, or carried after Redis already admitted it', async () => {
    const gate = windows({ requestsPerMinute: 2, tokensPerMinute: 100, maxConcurrent: 5 });
    expect(await gate.admit('x', 40)).toMatchObject({
      admitted: true,
      remainingRequests: 1,
      remainingTokens: 60,
    });
    // A late reply and the local admission that replaced it are one call.
    expect(await gate.admit('x', 40)).toMatchObject({ admitted: true, remainingRequests: 1, inFlight: 1 });
    const carried = await gate.admit('y', 10, [{ id: 'x', ageMs: 5, cost: 40, leased: true }]);
    expect(carried).toMatchObject({ admitted: true, remainingRequests: 0, remainingTokens: 50, inFlight: 2 });
  });

  it('reserves the token estimate, then swaps it for the actual count on settle', async () => {
    const gate = windows({ tokensPerMinute: 100 });
    expect(await gate.admit('a', 60)).toMatchObject({ admitted: true, remainingTokens: 40 });
    const denied = await gate.admit('b', 50);
    expect(denied).toMatchObject({ admitted: false, denied: 'tokens', remainingTokens: 40 });
    expect(denied.retryMs).toBeGreaterThan(WINDOW - 1000);
    await gate.settle('a', 30);
    expect(await gate.admit('b', 50)).toMatchObject({ admitted: true, remainingTokens: 20 });
    // A call withdrawn (its caller left before using it) gives its tokens back.
    await gate.settle('b', undefined, true);
    expect(await gate.admit('c', 0)).toMatchObject({ admitted: true, remainingTokens: 70 });
  });

  it('holds max_concurrent with leases: a release frees one, and a crashed holder’s lease expires', async () => {
    const gate = windows({ maxConcurrent: 2, leaseTtlMs: 300 });
    expect(await gate.admit('a', 0)).toMatchObject({ admitted: true, inFlight: 1 });
    expect(await gate.admit('b', 0)).toMatchObject({ admitted: true, inFlight: 2 });
    const full = await gate.admit('c', 0);
    expect(full).toMatchObject({ admitted: false, denied: 'concurrency', inFlight: 2 });
    expect(full.retryMs).toBeUndefined(); // only a release frees it
    await gate.settle('a', undefined);
    expect(await gate.admit('c', 0)).toMatchObject({ admitted: true, inFlight: 2 });
    // Nobody releases b and c (their process died): their leases run out after the TTL.
    await until(async () => (await gate.admit('d', 0)).admitted, 'the leases to expire', 5000);
  });

  it('pauses the model for every caller; a shorter pause does not cut a longer one', async () => {
    const gate = windows({ requestsPerMinute: 100 });
    expect(await gate.pause(30_000)).toBeGreaterThan(29_000);
    expect(await gate.pause(1000)).toBeGreaterThan(29_000);
    const paused = await gate.admit('a', 0);
    expect(paused).toMatchObject({ admitted: false, denied: 'paused', remainingRequests: 100 });
    expect(paused.retryMs).toBeGreaterThan(29_000);
  });
});

describe('modelRateLimitPolicy with redis', () => {
  it('holds one limit for two instances together, whatever the split (per-process shares would not)', async () => {
    const model = `shared-${++keyCounter}`;
    const options = {
      models: { [model]: { requestsPerMinute: 6 } },
      instances: 2,
      maxQueueWaitMs: 1000,
      keyPrefix: 'test:shared:',
    };
    const busy = modelRateLimitPolicy({ ...options, redis: await connect() });
    const idle = modelRateLimitPolicy({ ...options, redis: await connect() });
    const up = jsonUpstream();
    const run = async (policy: typeof busy) => {
      try {
        await policy.execute(ctxFor({ model }), up.call);
        return 'ok';
      } catch (error) {
        if (!isOverloadedError(error)) throw error;
        return 'overloaded';
      }
    };
    // The busy instance gets 5 of 6 calls: it may use the idle one's share.
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await run(busy));
    results.push(await run(idle), await run(idle), await run(busy));
    expect(results).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'overloaded', 'overloaded']);
    expect(up.calls).toHaveLength(6);
    expect(busy.limiterState()).toEqual({ mode: 'redis', degraded: false });
    expect(busy.state()[model]).toMatchObject({ remainingRequests: 0, inFlight: 0 });
  });

  it('queues behind another instance’s call (FIFO in the process) and passes when that call ends', async () => {
    const model = `narrow-${++keyCounter}`;
    const options = { models: { [model]: { maxConcurrent: 1 } }, maxQueueWaitMs: 5000, instances: 2 };
    const a = modelRateLimitPolicy({ ...options, redis: await connect() });
    const b = modelRateLimitPolicy({ ...options, redis: await connect() });
    let finish!: () => void;
    const held = a.execute(ctxFor({ model }), async () => {
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
      return jsonResult({ ok: true });
    });
    await until(() => a.state()[model]?.inFlight === 1, 'the first call to start');
    const order: string[] = [];
    const queued = [1, 2].map((n) =>
      b.execute(ctxFor({ model }), async () => {
        order.push(`b${n}`);
        return jsonResult({ ok: true });
      }),
    );
    await until(() => b.state()[model]?.queued === 2, 'both calls to queue');
    expect(order).toEqual([]);
    finish();
    await held;
    await Promise.all(queued);
    expect(order).toEqual(['b1', 'b2']);
    // Nothing left held: the next call on either instance passes at once (maxQueueWaitMs 0).
    const noWait = modelRateLimitPolicy({ ...options, maxQueueWaitMs: 0, redis: await connect() });
    const up = jsonUpstream();
    await noWait.execute(ctxFor({ model }), up.call);
    expect(up.calls).toHaveLength(1);
  });

  it('a provider 429 seen by one instance pauses the model on the others', async () => {
    const model = `paused-${++keyCounter}`;
    const options = { models: { [model]: { requestsPerMinute: 100 } }, maxQueueWaitMs: 1000 };
    const hit = modelRateLimitPolicy({ ...options, redis: await connect() });
    const other = modelRateLimitPolicy({ ...options, redis: await connect() });
    const refused = hit.execute(ctxFor({ model }), async () => {
      throw new UpstreamError('slow down', 429, { retryAfter: 30 });
    });
    await expect(refused).rejects.toMatchObject({ upstreamStatus: 429 });
    const up = jsonUpstream();
    // Redis says the pause lasts ~30 s, over the 1 s queue bound: a 503 at once, the provider untouched.
    await expect(other.execute(ctxFor({ model }), up.call)).rejects.toSatisfy(isOverloadedError);
    expect(up.calls).toHaveLength(0);
    expect(other.state()[model]?.pausedUntil).toBeGreaterThan(Date.now() + 29_000);
  });

  it('across a failover, the instances together stay under the limit: each uses only its part of what Redis last left', async () => {
    const own = await startRedis();
    try {
      const connection = () => {
        const c = createRedisConnection({ url: own.url, commandTimeoutMs: 200, breakerCooldownMs: 50 });
        connections.push(c);
        return c;
      };
      const [redisA, redisB] = [connection(), connection()];
      await until(() => redisA.available && redisB.available, 'own Redis');
      const model = `failover-${++keyCounter}`;
      const options = { models: { [model]: { requestsPerMinute: 10 } }, instances: 2, maxQueueWaitMs: 500 };
      const busy = modelRateLimitPolicy({ ...options, redis: redisA });
      const quiet = modelRateLimitPolicy({ ...options, redis: redisB });
      const up = jsonUpstream();
      const run = (policy: typeof busy) =>
        policy.execute(ctxFor({ model }), up.call).then(
          () => 'ok',
          (error: unknown) => (isOverloadedError(error) ? 'overloaded' : Promise.reject(error)),
        );
      for (let i = 0; i < 8; i++) expect(await run(busy)).toBe('ok');
      expect(await run(quiet)).toBe('ok'); // Redis: 9 of 10 used, 1 left
      await own.kill();
      await until(() => !redisA.available && !redisB.available, 'the connections to notice');
      // The quiet instance's share (5) has 4 left, but Redis last left 1 for both: it takes none of
      // it alone (1 / 2 rounds down); the busy one is over its share already.
      expect([await run(quiet), await run(busy)]).toEqual(['overloaded', 'overloaded']);
      expect(up.calls).toHaveLength(9);
    } finally {
      await own.stop();
    }
  });

  it('falls back to its share while Redis is down, visibly, and Redis counts those calls once back', async () => {
    const own = await startRedis();
    try {
      const connection = createRedisConnection({
        url: own.url,
        commandTimeoutMs: 200,
        breakerCooldownMs: 50,
      });
      connections.push(connection);
      await until(() => connection.available, 'own Redis');
      const model = `fallback-${++keyCounter}`;
      const policy = modelRateLimitPolicy({
        models: { [model]: { requestsPerMinute: 10 } },
        instances: 4,
        maxQueueWaitMs: 500,
        redis: connection,
      });
      const up = jsonUpstream();
      const run = () =>
        policy.execute(ctxFor({ model }), up.call).then(
          () => 'ok',
          (error: unknown) => (isOverloadedError(error) ? 'overloaded' : Promise.reject(error)),
        );
      expect(await run()).toBe('ok'); // in Redis: 1 of 10
      await own.kill();
      await until(() => !connection.available, 'the connection to notice');
      // This instance's share is 10 / 4 = 2, and it already made 1 call in the window.
      expect([await run(), await run()]).toEqual(['ok', 'overloaded']);
      expect(policy.limiterState()).toEqual({ mode: 'local-fallback', degraded: true });
      await own.restart(); // an empty Redis, as after losing the data
      await until(() => connection.available, 'the connection to come back');
      // The next admission carries the call made alone: Redis counts it (1 of 10, then 2 of 10).
      expect(await run()).toBe('ok');
      expect(policy.limiterState()).toEqual({ mode: 'redis', degraded: false });
      expect(policy.state()[model]?.remainingRequests).toBe(8);
      expect(up.calls).toHaveLength(3);
    } finally {
      await own.stop();
    }
  });
});
