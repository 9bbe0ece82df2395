import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/gateway/config/index.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { startProxy } from '../redis/proxy.ts';
import { gatewayConfig } from './harness/config.ts';
import { chat, chatBody, waitUntil } from './harness/http.ts';
import { parsePrometheus, sumOf } from './harness/prometheus.ts';

// Redis failures a gateway must survive visibly (issue 13, items 6 and 8): a frozen Redis, a Redis
// out of memory, wrong credentials. One gateway process each, with the default Redis timeout.

const PROVIDER_KEY = 'sk-provider-redis-failures-4f1e';
const CLIENT_KEY = 'sk-client-redis-failures-9a2b';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: PROVIDER_KEY, latencyMs: 5 });
});
afterAll(async () => {
  await sim?.close();
});

/** A gateway whose tier uses every Redis path: request and token buckets, concurrency leases, the cache. */
function gateway(redisUrl: string): Promise<GatewayProcess> {
  return startGateway({
    name: 'redis-failures',
    redisUrl,
    env: { SIM_PROVIDER_KEY: PROVIDER_KEY },
    config: gatewayConfig({
      simulatorUrl: sim.url,
      tiers: {
        standard: { requests_per_minute: 100_000, tokens_per_minute: 10_000_000, max_concurrent: 50 },
      },
      keys: [{ key: CLIENT_KEY, tenant: 'failures', tier: 'standard' }],
    }),
  });
}

const readyz = async (gw: GatewayProcess) =>
  (await (await fetch(`${gw.url}/readyz`)).json()) as {
    status: string;
    store: { redis: string; reason?: string };
  };
const storeAvailable = async (gw: GatewayProcess) =>
  sumOf(parsePrometheus(await gw.metrics()), 'alchemist_store_available');
/** Log lines of one failure kind (text format: `... kind=oom code=OOM`). */
const linesOfKind = (gw: GatewayProcess, kind: string) =>
  gw
    .logs()
    .split('\n')
    .filter((line) => line.includes(` kind=${kind} `) || line.endsWith(` kind=${kind}`));

describe('a frozen Redis (connection open, no replies)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('is bounded by a default timeout of tens of ms, and hits and misses complete while it stays frozen (regression: ~1 s each)', async () => {
    // Bug: the default redis_timeout_ms was 1000, so every request waited ~1 s (p99 1,007 ms) for a
    // frozen Redis, memory hits included.
    expect(loadConfig({ env: {} }).cache.redisTimeoutMs).toBe(50);
    const proxy = await startProxy(redis.port);
    const gw = await gateway(proxy.url);
    try {
      await waitUntil(async () => (await readyz(gw)).store.redis === 'up', 'Redis up');
      const cached = await chat(gw.url, chatBody('cached before the freeze'), { key: CLIENT_KEY });
      expect(cached.status).toBe(200);
      proxy.freeze();
      const replies = [];
      for (let i = 0; i < 10; i++) {
        replies.push(await chat(gw.url, chatBody('cached before the freeze'), { key: CLIENT_KEY }));
        replies.push(await chat(gw.url, chatBody(`miss while frozen ${i}`), { key: CLIENT_KEY }));
      }
      expect(proxy.frozen).toBe(true);
      expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200));
      expect(replies[0]!.headers.get('cache-status')).toMatch(/; hit/);
      console.info(`frozen Redis: request ms ${replies.map((reply) => reply.ms.toFixed(0)).join(' ')}`);
      expect(await readyz(gw)).toMatchObject({
        status: 'degraded',
        store: { redis: 'down', reason: 'timeout' },
      });
      expect(await storeAvailable(gw)).toBe(0);
      expect(linesOfKind(gw, 'timeout')).toHaveLength(1);

      proxy.thaw();
      await waitUntil(async () => (await readyz(gw)).status === 'ready', 'ready after the thaw');
      expect(await storeAvailable(gw)).toBe(1);
    } finally {
      await gw.stop();
      await proxy.close();
    }
  });
});

describe('a Redis that refuses writes (maxmemory, noeviction)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('is reported degraded (gauge 0, /readyz reason oom) with one log line, and recovers (regression: silent)', async () => {
    // Bug: 1,722 failed writes, no log line, alchemist.store.available 1 and /readyz ready.
    const gw = await gateway(redis.url);
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await waitUntil(async () => (await readyz(gw)).store.redis === 'up', 'Redis up');
      await admin.set('fill', 'x'.repeat(2_000_000));
      await admin.configSet({ maxmemory: '1mb', 'maxmemory-policy': 'noeviction' });
      const replies = [];
      for (let i = 0; i < 20; i++)
        replies.push(await chat(gw.url, chatBody(`oom ${i}`), { key: CLIENT_KEY }));
      expect(replies.map((reply) => reply.status)).toEqual(replies.map(() => 200));
      expect(await readyz(gw)).toMatchObject({ status: 'degraded', store: { redis: 'down', reason: 'oom' } });
      expect(await storeAvailable(gw)).toBe(0);
      const lines = linesOfKind(gw, 'oom');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /warn .*out of memory.* store=redis server=127\.0\.0\.1:\d+ kind=oom code=OOM/,
      );

      await admin.configSet({ maxmemory: '0' });
      await waitUntil(async () => (await readyz(gw)).status === 'ready', 'ready once writes succeed');
      expect(await storeAvailable(gw)).toBe(1);
    } finally {
      await admin.configSet({ maxmemory: '0' });
      admin.destroy();
      await gw.stop();
    }
  });
});

describe('wrong Redis credentials', () => {
  it('log one line without the password, and the store is reported down (regression: silent)', async () => {
    const password = 'wrong-redis-pass-7d3c';
    const redis = await startRedis({ args: ['--requirepass', 'right-redis-pass-2e8a'] });
    const gw = await gateway(`redis://:${password}@127.0.0.1:${redis.port}`);
    try {
      await waitUntil(() => linesOfKind(gw, 'auth').length > 0, 'an auth log line');
      expect((await chat(gw.url, chatBody('no redis'), { key: CLIENT_KEY })).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // many reconnect attempts, each rejected
      expect(linesOfKind(gw, 'auth')).toHaveLength(1);
      expect(linesOfKind(gw, 'auth')[0]).toMatch(/kind=auth code=WRONGPASS/);
      expect(gw.logs()).not.toContain(password);
      expect(await readyz(gw)).toMatchObject({
        status: 'degraded',
        store: { redis: 'down', reason: 'auth' },
      });
      expect(await storeAvailable(gw)).toBe(0);
    } finally {
      await gw.stop();
      await redis.stop();
    }
  });
});
