import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiCachePolicy } from '../../src/cache/policy.ts';
import { createRedisConnection, type RedisConnection } from '../../src/redis/connection.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { startProxy } from '../redis/proxy.ts';
import { cacheApp, chat } from './app.ts';

const telemetry = useTestTelemetry();
const run = promisify(execFile);

async function until(check: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
const results = (result: string, layer: string) =>
  telemetry.sum('alchemist.cache.requests', {
    'alchemist.cache.result': result,
    'alchemist.cache.layer': layer,
  });
const idOf = async (response: Response) => ((await response.json()) as { id: string }).id;

describe('cache on Redis', () => {
  let redis: RedisServer;
  let connection: RedisConnection;

  beforeAll(async () => {
    redis = await startRedis({ persist: true });
    connection = createRedisConnection({ url: redis.url });
    await until(() => connection.available, 'Redis connection');
  });
  afterAll(async () => {
    await connection?.close();
    await redis?.stop();
  });

  it('writes through to Redis; another instance hits in Redis, then in its own memory', async () => {
    const writer = cacheApp(aiCachePolicy({ redis: connection, namespace: 'wt' }));
    const first = await writer.post(chat('write-through'));
    expect(first.headers.get('cache-status')).toBe('alchemist-perf; fwd=miss; stored');
    const id = await idOf(first);
    const stored = await connection.run((c) => c.keys('wt:*'));
    expect(stored).toHaveLength(1);
    expect(await connection.run((c) => c.pTTL(stored[0]!))).toBeGreaterThan(3_590_000);

    const redisHitsBefore = await results('hit', 'redis');
    const memoryHitsBefore = await results('hit', 'memory');
    const reader = cacheApp(aiCachePolicy({ redis: connection, namespace: 'wt' }));
    const viaRedis = await reader.post(chat('write-through'));
    expect(viaRedis.headers.get('cache-status')).toMatch(/^alchemist-perf; hit; ttl=\d+$/);
    expect(await idOf(viaRedis)).toBe(id);
    expect(await results('hit', 'redis')).toBe(redisHitsBefore + 1);
    expect(await idOf(await reader.post(chat('write-through')))).toBe(id);
    expect(await results('hit', 'memory')).toBe(memoryHitsBefore + 1);
    expect(reader.calls.count).toBe(0);
  });

  it('clears one tenant in Redis and memory', async () => {
    const policy = aiCachePolicy({ redis: connection, namespace: 'clr' });
    const { post } = cacheApp(policy);
    await post(chat('q'), { authorization: 'Bearer sk-one' });
    await post(chat('q'), { authorization: 'Bearer sk-two' });
    expect(await connection.run((c) => c.keys('clr:*'))).toHaveLength(2);
    const { tenantForKey } = await import('../../src/core/identity.ts');
    await policy.clear(tenantForKey('sk-one'));
    expect(await connection.run((c) => c.keys('clr:*'))).toHaveLength(1);
    expect((await post(chat('q'), { authorization: 'Bearer sk-one' })).headers.get('cache-status')).toMatch(
      /fwd=miss/,
    );
    await policy.clear();
    expect(await connection.run((c) => c.keys('clr:*'))).toHaveLength(0);
  });

  it('opens and closes its own connection when given a URL', async () => {
    const policy = aiCachePolicy({ redis: redis.url, namespace: 'own' });
    await until(() => policy.stats().redisAvailable === true, 'own connection');
    await policy.close();
    expect(policy.stats().redisAvailable).toBe(false);
  });

  it('two processes sharing one Redis share entries', async () => {
    const script = fileURLToPath(new URL('./fixtures/share.ts', import.meta.url));
    const once = async () => {
      const { stdout } = await run(process.execPath, [script, redis.url, 'procs'], { timeout: 20_000 });
      return JSON.parse(stdout.trim()) as { pid: number; id: string; cacheStatus: string; result: string };
    };
    const first = await once();
    const second = await once();
    expect(first.cacheStatus).toBe('alchemist-perf; fwd=miss; stored');
    expect(first.id).toBe(`answer-from-${first.pid}`);
    expect(second.pid).not.toBe(first.pid);
    expect(second.result).toBe('hit');
    expect(second.cacheStatus).toMatch(/^alchemist-perf; hit; ttl=\d+$/);
    expect(second.id).toBe(first.id);
  });

  it('bounds a hung Redis (connection open, no replies) to the command timeout, then fails fast', async () => {
    const proxy = await startProxy(redis.port);
    const hung = createRedisConnection({ url: proxy.url, commandTimeoutMs: 50, breakerCooldownMs: 200 });
    try {
      await until(() => hung.available, 'proxied connection');
      const app = cacheApp(aiCachePolicy({ redis: hung, namespace: 'hung' }));
      const id = await idOf(await app.post(chat('before')));
      proxy.freeze();
      const durations: number[] = [];
      for (let i = 0; i < 10; i++) {
        const started = performance.now();
        const response = await app.post(chat(i % 2 ? 'before' : `new-${i}`));
        durations.push(performance.now() - started);
        expect(response.status).toBe(200);
        if (i % 2) expect(await idOf(response)).toBe(id);
      }
      expect(Math.max(...durations)).toBeLessThan(250);
      // The breaker opened: later requests skip Redis instead of waiting for it.
      expect(hung.available).toBe(false);
      proxy.thaw();
      await until(() => hung.available, 'breaker closed again');
    } finally {
      await hung.close();
      await proxy.close();
    }
  });

  it('serves a memory hit without a Redis command while Redis is frozen, and a miss while it stays frozen (regression)', async () => {
    // Bug: a hung Redis cost every request its own timeout (1 s with the gateway's old default)
    // until the breaker opened; now the first overdue reply makes every later call skip Redis.
    const proxy = await startProxy(redis.port);
    const frozen = createRedisConnection({ url: proxy.url, failureThreshold: 1000 });
    try {
      await until(() => frozen.available, 'proxied connection');
      const app = cacheApp(aiCachePolicy({ redis: frozen, namespace: 'frozen' }));
      const id = await idOf(await app.post(chat('cached before the freeze')));
      proxy.freeze();
      // The first miss waits for its lookup's bound (50 ms), then answers from upstream.
      const first = await app.post(chat('first miss while frozen'));
      expect(first.status).toBe(200);
      await until(() => !frozen.available, 'seen as hung');
      const sent = proxy.held;
      const hit = await app.post(chat('cached before the freeze'));
      expect(hit.headers.get('cache-status')).toMatch(/^alchemist-perf; hit/);
      expect(await idOf(hit)).toBe(id);
      const miss = await app.post(chat('second miss while frozen'));
      expect(miss.status).toBe(200);
      expect(miss.headers.get('cache-status')).toMatch(/fwd=miss/);
      // Neither sent anything to the frozen Redis, so neither waited for it; it is still frozen.
      expect(proxy.held).toBe(sent);
      expect(proxy.frozen).toBe(true);
      proxy.thaw();
      await until(() => frozen.available, 'available again');
    } finally {
      await frozen.close();
      await proxy.close();
    }
  });

  it('keeps answering correctly and fast while Redis is killed, and serves pre-outage entries after restart', async () => {
    // Time every wait on Redis (a lookup or a write), apart from the rest of the request.
    const redisWaits: number[] = [];
    const timed: RedisConnection = {
      get available() {
        return connection.available;
      },
      async run(fn) {
        const started = performance.now();
        try {
          return await connection.run(fn);
        } finally {
          redisWaits.push(performance.now() - started);
        }
      },
      evalScript: (script, keys, args) => connection.evalScript(script, keys, args),
      onAvailabilityChange: (listener) => connection.onAvailabilityChange(listener),
      close: () => connection.close(),
    };
    const policy = aiCachePolicy({ redis: timed, namespace: 'outage' });
    const app = cacheApp(policy);
    const before = new Map<string, string>();
    for (let i = 0; i < 5; i++) before.set(`pre-${i}`, await idOf(await app.post(chat(`pre-${i}`))));

    const durations: number[] = [];
    const failures: string[] = [];
    let flowing = true;
    let n = 0;
    const worker = async () => {
      while (flowing) {
        const i = n++;
        const question = i % 2 === 0 ? `pre-${i % 5}` : `during-${i}`;
        const started = performance.now();
        const response = await app.post(chat(question));
        durations.push(performance.now() - started);
        const id = await idOf(response);
        if (response.status !== 200) failures.push(`${question}: ${response.status}`);
        else if (before.has(question) && id !== before.get(question)) failures.push(`${question}: ${id}`);
        else if (!before.has(question) && !id.startsWith('chatcmpl-')) failures.push(`${question}: ${id}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await until(() => n >= 20, 'requests before the outage');
    await redis.kill();
    await until(() => !connection.available, 'Redis seen as down');
    const during = n;
    await until(() => n >= during + 40, 'requests during the outage', 20_000);
    expect(await telemetry.gauge('alchemist.store.available', { 'alchemist.store': 'redis' })).toBe(0);
    expect(policy.stats().requests.error).toBeGreaterThan(0);

    await redis.restart();
    await until(() => connection.available, 'Redis back', 15_000);
    flowing = false;
    await Promise.all(workers);
    expect(await telemetry.gauge('alchemist.store.available', { 'alchemist.store': 'redis' })).toBe(1);

    expect(failures).toEqual([]);
    const max = Math.max(...durations);
    const maxWait = Math.max(...redisWaits);
    console.info(
      `redis outage: ${durations.length} requests, max ${max.toFixed(1)} ms per request, ` +
        `max ${maxWait.toFixed(1)} ms waiting on Redis (${redisWaits.length} Redis calls)`,
    );
    // The bound is 50 ms (commandTimeoutMs); generous margins for timers on a loaded machine.
    expect(maxWait).toBeLessThan(250);
    expect(max).toBeLessThan(1000);

    // A fresh instance (empty memory) finds the entries written before the outage in Redis.
    const fresh = cacheApp(aiCachePolicy({ redis: connection, namespace: 'outage' }));
    const redisHitsBefore = await results('hit', 'redis');
    for (const [question, id] of before) {
      const response = await fresh.post(chat(question));
      expect(response.headers.get('cache-status')).toMatch(/hit/);
      expect(await idOf(response)).toBe(id);
    }
    expect(await results('hit', 'redis')).toBe(redisHitsBefore + before.size);
    expect(fresh.calls.count).toBe(0);
  });
});
