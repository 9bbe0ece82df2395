import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRateLimitedError } from '../../src/core/errors.ts';
import { jsonResult } from '../../src/core/result.ts';
import { tierRateLimitPolicy } from '../../src/ratelimit/tier-policy.ts';
import type { RedisConnection } from '../../src/redis/connection.ts';
import { createRedisConnection } from '../../src/redis/connection.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { ctxFor, drain, streamUpstream } from './helpers.ts';

const telemetry = useTestTelemetry();
const worker = fileURLToPath(new URL('./fixtures/burst-worker.ts', import.meta.url));

let server: RedisServer;
const connections: RedisConnection[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(connections.map((c) => c.close()));
  await server?.stop();
});

async function connect(): Promise<RedisConnection> {
  const redis = createRedisConnection({ url: server.url, commandTimeoutMs: 2000, breakerCooldownMs: 100 });
  connections.push(redis);
  await until(() => redis.available, 'Redis connection');
  return redis;
}

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Run one call; true when admitted. Fails the test if it takes longer than `boundMs` (no hangs). */
async function admitted(run: () => Promise<unknown>, boundMs = 3000): Promise<boolean> {
  const started = performance.now();
  try {
    await run();
    return true;
  } catch (error) {
    if (!isRateLimitedError(error)) throw error;
    return false;
  } finally {
    expect(performance.now() - started).toBeLessThan(boundMs);
  }
}

function message<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    child.once('message', (value) => resolve(value as T));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before answering`)));
  });
}

describe('distributed tier limits on a real Redis', () => {
  it('three processes share a limit of N per minute: a burst of 5N across them admits exactly N', async () => {
    const N = 30;
    const prefix = `test:${randomUUID()}:`;
    const spawned = [0, 1, 2].map(() => {
      const child = fork(worker, [server.url, prefix, String(N), String((5 * N) / 3)], {
        execPath: process.execPath,
        execArgv: [],
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      children.push(child);
      return child;
    });
    const ready = await Promise.all(spawned.map((child) => message<{ ready: boolean }>(child)));
    expect(ready.every((r) => r.ready)).toBe(true);
    const results = spawned.map((child) =>
      message<{ allowed: number; rejected: number; modes: string[] }>(child),
    );
    for (const child of spawned) child.send({ go: true });
    const counts = await Promise.all(results);
    expect(counts.reduce((sum, c) => sum + c.allowed, 0)).toBe(N);
    expect(counts.reduce((sum, c) => sum + c.rejected, 0)).toBe(4 * N);
    expect(counts.flatMap((c) => c.modes)).toEqual(['redis', 'redis', 'redis']);
  });

  it('shares concurrency leases and token settlements across processes', async () => {
    const prefix = `test:${randomUUID()}:`;
    const options = { tiers: { t: { maxConcurrent: 1, tokensPerMinute: 6000 } }, keyPrefix: prefix };
    const a = tierRateLimitPolicy({ ...options, redis: await connect() });
    const b = tierRateLimitPolicy({ ...options, redis: await connect() });
    const request = { messages: [{ role: 'user', content: 'hi' }], max_tokens: 1000 };
    const open = await a.execute(
      ctxFor({ tier: 't', request }),
      streamUpstream(2, { prompt_tokens: 5, completion_tokens: 5 }),
    );
    expect(await admitted(() => b.execute(ctxFor({ tier: 't', request }), streamUpstream(1)))).toBe(false);
    await drain(open);
    // The stream's settlement (release + refund) runs in Redis right after its end: poll for it.
    const probe = async () => {
      const ctx = ctxFor({ tier: 't', request: { max_tokens: 0 } });
      await b.execute(ctx, async () => jsonResult({ usage: { prompt_tokens: 0, completion_tokens: 0 } }));
      return Number(/"tokens";r=(\d+)/.exec(ctx.decisions.headers.RateLimit ?? '')?.[1]);
    };
    let remaining = 0;
    const deadline = Date.now() + 5000;
    while (remaining < 5990 - 5 && Date.now() < deadline) remaining = await probe().catch(() => 0);
    // 6000 - 10 settled by process A (refill during the test adds at most a few tokens, capped at 6000).
    expect(remaining).toBeGreaterThanOrEqual(5990 - 5);
    expect(remaining).toBeLessThanOrEqual(5990 + 5);
  });

  it('falls back to local limits (divided by instances) when Redis dies, visibly and without hanging; global again when it returns', async () => {
    const redis = await connect();
    const prefix = `test:${randomUUID()}:`;
    const policy = tierRateLimitPolicy({
      tiers: { t: { requestsPerMinute: 10 } },
      redis,
      instances: 2,
      keyPrefix: prefix,
    });
    const call = (tenant = 'fallback') =>
      policy.execute(ctxFor({ tier: 't', tenant }), async () => jsonResult({}));
    expect(await admitted(() => call())).toBe(true);
    expect(policy.state()).toEqual({ mode: 'redis', degraded: false });

    await server.kill();
    // Local limit: 10 / 2 instances = 5 per process; every call answers within the bound.
    const local: boolean[] = [];
    for (let i = 0; i < 7; i++) local.push(await admitted(() => call()));
    expect(local).toEqual([true, true, true, true, true, false, false]);
    expect(policy.state()).toEqual({ mode: 'local-fallback', degraded: true });
    const span = telemetry.tracerProvider.getTracer('test').startSpan('request');
    await admitted(() =>
      policy.execute(ctxFor({ tier: 't', tenant: 'other', span }), async () => jsonResult({})),
    );
    span.end();
    expect(telemetry.spans().at(-1)?.attributes).toMatchObject({
      'alchemist.ratelimit.mode': 'local-fallback',
      'alchemist.ratelimit.tier.requests.remaining': 4,
    });

    await server.restart();
    await until(() => redis.available, 'Redis to come back');
    // Global again: Redis lost its data (no persistence), so the global bucket is full: 10 more.
    const global: boolean[] = [];
    for (let i = 0; i < 11; i++) global.push(await admitted(() => call()));
    expect(global.filter(Boolean)).toHaveLength(10);
    expect(policy.state()).toEqual({ mode: 'redis', degraded: false });
  });
});
