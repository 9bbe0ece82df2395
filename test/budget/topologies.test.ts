import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { budgetPolicy } from '../../src/budget/policy.ts';
import type { CallContext } from '../../src/core/context.ts';
import { isBudgetExceededError } from '../../src/core/errors.ts';
import { jsonResult } from '../../src/core/result.ts';
import { estimateInputTokens, loadTokenizer } from '../../src/ratelimit/tokens.ts';
import type { RedisConnection, RedisConnectionOptions } from '../../src/redis/connection.ts';
import { createRedisConnection } from '../../src/redis/connection.ts';
import { startRedisCluster, startRedisSentinels } from '../helpers/redis-topologies.ts';
import { ctxFor, manualClock } from '../ratelimit/helpers.ts';
import { chat, MODEL, TODAY_10AM } from './helpers.ts';

// Budgets behave the same on a Redis Cluster and a Sentinel set (DESIGN): the tenant's two keys share
// one slot (hash tag), so the Lua scripts run, and two connections share one spend exactly.

await loadTokenizer();
const connections: RedisConnection[] = [];
const labs: { stop(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await Promise.all(labs.map((lab) => lab.stop()));
});

async function connect(
  target: Pick<RedisConnectionOptions, 'cluster' | 'sentinel'>,
): Promise<RedisConnection> {
  const redis = createRedisConnection({ ...target, commandTimeoutMs: 2000 });
  connections.push(redis);
  const deadline = Date.now() + 20_000;
  while (!redis.available) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the Redis connection');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return redis;
}

const answering = (input: number) => async (ctx: CallContext) => {
  ctx.decisions.upstreamAttempts++;
  return jsonResult({ choices: [], usage: { prompt_tokens: input, completion_tokens: 0 } });
};

async function sharedSpend(target: Pick<RedisConnectionOptions, 'cluster' | 'sentinel'>) {
  const keyPrefix = `t:${randomUUID()}:`;
  const clock = manualClock(TODAY_10AM);
  const [a, b] = [await connect(target), await connect(target)];
  const make = (redis: RedisConnection) =>
    budgetPolicy({ tiers: { metered: { budgetUsd: 20, period: 'day' } }, redis, keyPrefix, clock });
  const policies = [make(a), make(b)];
  const results: boolean[] = [];
  for (let i = 0; i < 6; i++) {
    results.push(
      await policies[i % 2]!.execute(
        ctxFor({ model: MODEL, tier: 'metered', tenant: 'shared', request: chat('x', 0) }),
        answering(4),
      ).then(
        () => true,
        (error: unknown) => {
          if (isBudgetExceededError(error)) return false;
          throw error;
        },
      ),
    );
  }
  const fits = Math.floor((20 - estimateInputTokens(chat('x', 0))) / 4) + 1;
  expect(results).toEqual(Array.from({ length: 6 }, (_, i) => i < fits));
  expect((await policies[1]!.report([{ tenant: 'shared', tier: 'metered' }]))[0]).toMatchObject({
    spentUsd: 4 * fits,
    reservedUsd: 0,
  });
  for (const policy of policies) expect(policy.state()).toEqual({ mode: 'redis', degraded: false });
}

describe('budgets on Redis topologies', () => {
  it('share one tenant spend exactly on a Redis Cluster', { timeout: 120_000 }, async () => {
    const cluster = await startRedisCluster();
    labs.push(cluster);
    await sharedSpend({ cluster: cluster.urls });
  });

  it('share one tenant spend exactly on a Sentinel set', { timeout: 120_000 }, async () => {
    const sentinels = await startRedisSentinels();
    labs.push(sentinels);
    await sharedSpend({ sentinel: { name: sentinels.name, nodes: sentinels.urls } });
  });
});
