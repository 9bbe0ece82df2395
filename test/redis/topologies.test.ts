import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiCachePolicy } from '../../src/cache/policy.ts';
import { isRateLimitedError } from '../../src/core/errors.ts';
import { tierRateLimitPolicy } from '../../src/ratelimit/tier-policy.ts';
import { createRedisConnection, type RedisConnectionOptions } from '../../src/redis/connection.ts';
import type { RedisConnection } from '../../src/redis/index.ts';
import { cacheApp, chat } from '../cache/app.ts';
import { redisCli, startRedisCluster, startRedisSentinels } from '../helpers/redis-topologies.ts';
import { ctxFor, jsonUpstream } from '../ratelimit/helpers.ts';

// The same cache and tier-limit behaviour on a Redis Cluster (3 masters, 3 replicas) and on a
// Sentinel set (master, replica, 3 sentinels), both started here on loopback; then a master is
// killed under load on each.

interface Lab {
  /** Connection options for this topology. */
  readonly target: Pick<RedisConnectionOptions, 'cluster' | 'sentinel'>;
  /** Port of the master that owns `tenant`'s limiter keys (`{tenant}` hash tag). */
  masterFor(tenant: string): Promise<number>;
  kill(port: number): Promise<void>;
  stop(): Promise<void>;
}

async function clusterLab(): Promise<Lab> {
  const lab = await startRedisCluster();
  return {
    target: { cluster: lab.urls },
    async masterFor(tenant) {
      const masters = await lab.masters();
      return lab.masterOf(Number(await redisCli(masters[0]!, 'cluster', 'keyslot', `{${tenant}}`)));
    },
    kill: (port) => lab.kill(port),
    stop: () => lab.stop(),
  };
}

async function sentinelLab(): Promise<Lab> {
  const lab = await startRedisSentinels();
  return {
    target: { sentinel: { name: lab.name, nodes: lab.urls } },
    masterFor: () => lab.master(),
    kill: (port) => lab.kill(port),
    stop: () => lab.stop(),
  };
}

async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
const idOf = async (response: Response) => ((await response.json()) as { id: string }).id;

/** Calls admitted out of `total` at once, spread over `policies` (instances sharing the Redis). */
async function burst(policies: ReturnType<typeof tierRateLimitPolicy>[], tenant: string, total: number) {
  const upstream = jsonUpstream();
  const outcomes = await Promise.all(
    Array.from({ length: total }, (_, i) =>
      policies[i % policies.length]!.execute(ctxFor({ tenant, tier: 'free' }), upstream.call).then(
        () => true,
        (error: unknown) => {
          if (isRateLimitedError(error)) return false;
          throw error;
        },
      ),
    ),
  );
  return outcomes.filter(Boolean).length;
}

describe.each([
  ['Redis Cluster', clusterLab],
  ['Redis Sentinel', sentinelLab],
] as const)('on a %s', (_name, start) => {
  let lab: Lab;
  const open: RedisConnection[] = [];
  const connect = async (extra: Partial<RedisConnectionOptions> = {}) => {
    const connection = createRedisConnection({ ...lab.target, ...extra });
    open.push(connection);
    await until(() => connection.available, 'connection available');
    return connection;
  };
  // Generous bounds for exactness checks on this loaded 2-core machine; the failover test uses the defaults.
  const steady = { commandTimeoutMs: 1000 };

  beforeAll(async () => {
    lab = await start();
  }, 90_000);
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await lab?.stop();
  });

  it('shares cache entries between instances, and clear() empties every master', async () => {
    const [a, b] = [await connect(steady), await connect(steady)];
    const writer = cacheApp(aiCachePolicy({ redis: a, namespace: 'topo' }));
    const ids = new Map<string, string>();
    // Twenty tenants: their entries land on every master of a cluster.
    for (let i = 0; i < 20; i++) {
      const response = await writer.post(chat('shared question'), { authorization: `Bearer sk-topo-${i}` });
      ids.set(`sk-topo-${i}`, await idOf(response));
    }
    const reader = cacheApp(aiCachePolicy({ redis: b, namespace: 'topo' }));
    for (const [key, id] of ids) {
      const response = await reader.post(chat('shared question'), { authorization: `Bearer ${key}` });
      expect(response.headers.get('cache-status')).toMatch(/^alchemist-perf; hit/);
      expect(await idOf(response)).toBe(id);
    }
    expect(reader.calls.count).toBe(0);
    const masters = await a.masters!();
    const stored = async () => {
      let count = 0;
      for (const node of masters) count += (await node.run((c) => c.keys('topo:*'))).length;
      return count;
    };
    expect(await stored()).toBe(20);
    await aiCachePolicy({ redis: a, namespace: 'topo' }).clear();
    expect(await stored()).toBe(0);
  });

  it('enforces a tier limit exactly across instances (Lua keys hash-tagged per tenant)', async () => {
    const N = 12;
    const prefix = `topo:${randomUUID()}:`;
    const policies = [await connect(steady), await connect(steady)].map((redis) =>
      tierRateLimitPolicy({ tiers: { free: { requestsPerMinute: N } }, redis, keyPrefix: prefix }),
    );
    // Several tenants, so a cluster spreads their keys over its masters.
    for (const tenant of ['t-a', 't-b', 't-c', 't-d']) {
      expect(await burst(policies, tenant, N * 3), tenant).toBe(N);
    }
    expect(policies.every((policy) => policy.state().mode === 'redis')).toBe(true);
  });

  it('survives a master killed under load: no call fails, degraded is visible, limits exact again after', async () => {
    const connection = await connect();
    const limits = tierRateLimitPolicy({
      tiers: { free: { requestsPerMinute: 1_000_000 } },
      redis: connection,
      keyPrefix: `topo:${randomUUID()}:`,
    });
    const app = cacheApp(aiCachePolicy({ redis: connection, namespace: 'failover' }));
    const upstream = jsonUpstream();
    const victim = await lab.masterFor('t-load');
    const failures: string[] = [];
    const latencies: number[] = [];
    let degradedSeen = false;
    let running = true;
    const load = (async () => {
      for (let i = 0; running; i++) {
        const started = performance.now();
        try {
          await limits.execute(ctxFor({ tenant: 't-load', tier: 'free' }), upstream.call);
          const response = await app.post(chat(`failover ${i % 50}`));
          if (response.status !== 200) failures.push(`cache ${response.status}`);
        } catch (error) {
          failures.push(String(error));
        }
        latencies.push(performance.now() - started);
        if (!connection.available) degradedSeen = true;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const killedAt = performance.now();
    await lab.kill(victim);
    await until(() => !connection.available, 'degraded after the kill', 15_000);
    await until(() => connection.available, 'available after the failover', 45_000);
    const recoveredMs = performance.now() - killedAt;
    await new Promise((resolve) => setTimeout(resolve, 500));
    running = false;
    await load;
    const sorted = [...latencies].sort((x, y) => x - y);
    console.info(
      `${_name} failover: available again ${recoveredMs.toFixed(0)} ms after kill -9; ` +
        `${latencies.length} iterations, ${failures.length} failed, p99 ${sorted[Math.floor(sorted.length * 0.99)]!.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms`,
    );
    expect(failures).toEqual([]);
    expect(degradedSeen).toBe(true);
    expect(limits.state().mode).toBe('redis');

    // Exact again, on the promoted master, across two fresh instances.
    const N = 10;
    const prefix = `topo:${randomUUID()}:`;
    const policies = [await connect(steady), await connect(steady)].map((redis) =>
      tierRateLimitPolicy({ tiers: { free: { requestsPerMinute: N } }, redis, keyPrefix: prefix }),
    );
    expect(await burst(policies, 't-load', N * 3)).toBe(N);
  }, 120_000);
});
