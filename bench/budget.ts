/**
 * What a budget decision costs per call: the policy alone around a call that answers at once, with
 * the ledger in this process and in Redis (reserve + settle: two scripts per call), sequential and
 * with 64 calls in flight. 50 tenants, one cached prompt (the token estimate is the cached path).
 *
 *   node bench/budget.ts [--redis redis://127.0.0.1:6379] [--calls 20000]
 */
import { parseArgs } from 'node:util';
import { type BudgetPolicy, budgetPolicy } from '../src/budget/index.ts';
import { createCallContext } from '../src/core/context.ts';
import { jsonResult } from '../src/core/result.ts';
import { loadTokenizer } from '../src/ratelimit/tokens.ts';
import { createRedisConnection } from '../src/redis/connection.ts';

const { values } = parseArgs({
  options: {
    redis: { type: 'string', default: 'redis://127.0.0.1:6379' },
    calls: { type: 'string', default: '20000' },
  },
});
const calls = Number(values.calls);
await loadTokenizer();
const request = {
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'Name three primary colours.' }],
  max_tokens: 64,
};
const answer = async () => jsonResult({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 20 } });
let tenant = 0;
const ctx = () =>
  createCallContext({
    provider: 'openai',
    model: 'gpt-4o-mini',
    tenant: `t${tenant++ % 50}`,
    tier: 'free',
    request,
  });

async function measure(label: string, policy: BudgetPolicy, n: number, inFlight: number): Promise<void> {
  for (let i = 0; i < 200; i++) await policy.execute(ctx(), answer);
  let started = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (started < n) {
        started++;
        await policy.execute(ctx(), answer);
      }
    }),
  );
  const perCall = ((performance.now() - began) * 1000) / n;
  console.log(
    `${label.padEnd(28)} ${perCall.toFixed(1).padStart(7)} µs per call (${n} calls, ${inFlight} in flight)`,
  );
}

const tiers = { free: { budgetUsd: 1e6 } };
await measure('local', budgetPolicy({ tiers }), calls, 1);
const redis = createRedisConnection({ url: values.redis, commandTimeoutMs: 1000 });
const deadline = Date.now() + 5000;
while (!redis.available && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
if (!redis.available) {
  console.log(`redis: ${values.redis} does not answer; skipped`);
} else {
  const shared = budgetPolicy({ tiers, redis, keyPrefix: `bench:budget:${Date.now()}:` });
  await measure('redis, sequential', shared, Math.min(calls, 3000), 1);
  await measure('redis, 64 in flight', shared, Math.min(calls, 6000), 64);
}
await redis.close();
