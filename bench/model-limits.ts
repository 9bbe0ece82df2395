/**
 * Over-admission with several gateway instances: three gateway processes on one redis-server (started
 * here) in front of the simulator, uneven load (80% of every burst to the first instance). Prints,
 * per limit, the calls admitted (tier) or that reached the provider (model) against the limit:
 * - tier: 4×limit calls of one tenant (token bucket, burst = rpm);
 * - model rpm, 2×limit calls (per-process shares under-use the account here);
 * - model rpm, 4×limit calls (over-admission shows when `instances` is lower than the real count);
 * - model max_concurrent: 12 calls at once, 300 ms each: the most in flight at the provider.
 * The bursts take a few seconds, inside the providers' one-minute window, so "per window" is "per burst".
 *
 * Usage: node bench/model-limits.ts [--cli src/cli/main.ts] [--instances 3] [--port 7150]
 *   before (per-process model limits): git worktree add /tmp/old-main main &&
 *     ln -s "$PWD/node_modules" /tmp/old-main/node_modules &&
 *     node bench/model-limits.ts --cli /tmp/old-main/src/cli/main.ts
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { startSimulator } from '../src/simulator/index.ts';
import { gatewayConfig } from '../test/e2e/harness/config.ts';
import { chat, chatBody } from '../test/e2e/harness/http.ts';
import { type GatewayProcess, startGateways } from '../test/helpers/gateway.ts';

const { values } = parseArgs({
  options: {
    cli: { type: 'string' },
    instances: { type: 'string', default: '3' },
    port: { type: 'string', default: '7150' },
  },
});
const PROVIDER_KEY = 'sk-provider-bench-model-limits';
const TIER_LIMIT = 15;
const MODEL_LIMIT = 12;
const CONCURRENT_LIMIT = 2;
const STEADY_KEY = 'sk-bench-steady-1234';
const tightKey = (n: number) => `sk-bench-tight-${n}-5678`;

async function startRedisServer(port: number): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}`).then(
      () => true,
      (error: { cause?: { code?: string } }) => error.cause?.code !== 'ECONNREFUSED',
    );
    if (ok) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server on ${port} did not start`);
}

/** Send `count` calls at once, 80% to the first gateway; statuses by code. */
async function burst(
  gateways: GatewayProcess[],
  count: number,
  body: (i: number) => Record<string, unknown>,
  key: string,
) {
  const replies = await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const gateway = i % 5 === 4 ? gateways[1 + (i % 2)]! : gateways[0]!;
      return chat(gateway.url, body(i), { key, timeoutMs: 30_000 });
    }),
  );
  const byStatus: Record<number, number> = {};
  for (const reply of replies) byStatus[reply.status] = (byStatus[reply.status] ?? 0) + 1;
  return byStatus;
}

const redisPort = Number(values.port);
const redis = await startRedisServer(redisPort);
const sim = await startSimulator({ apiKey: PROVIDER_KEY, latencyMs: 5 });
const models = ['gpt-4o-mini', 'paced-a', 'paced-b', 'narrow'];
const gateways = await startGateways(3, {
  name: 'bench-model-limits',
  ...(values.cli ? { cli: values.cli } : {}),
  redisUrl: `redis://127.0.0.1:${redisPort}`,
  env: { SIM_PROVIDER_KEY: PROVIDER_KEY },
  scanSecrets: false,
  config: gatewayConfig({
    simulatorUrl: sim.url,
    cache: { redis_timeout_ms: 250 },
    rateLimit: { instances: Number(values.instances) },
    tiers: {
      standard: { requests_per_minute: 1_000_000 },
      tight: { requests_per_minute: TIER_LIMIT },
    },
    keys: [
      { key: STEADY_KEY, tenant: 'steady', tier: 'standard' },
      { key: tightKey(0), tenant: 'tight-0', tier: 'tight' },
    ],
    models,
    modelOptions: {
      'paced-a': { rate_limit: MODEL_LIMIT },
      'paced-b': { rate_limit: MODEL_LIMIT },
      narrow: { max_concurrent: CONCURRENT_LIMIT },
    },
  }),
});
try {
  // Every gateway connected before the bursts (a cold connection would answer from the fallback).
  for (const gateway of gateways) {
    for (let i = 0; i < 100; i++) {
      const body = (await (await fetch(`${gateway.url}/readyz`)).json()) as { store: { redis: string } };
      if (body.store.redis === 'up') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const rows: string[] = [];
  const tier = await burst(gateways, TIER_LIMIT * 4, (i) => chatBody(`tier ${i}`), tightKey(0));
  rows.push(
    `tier rpm ${TIER_LIMIT}, ${TIER_LIMIT * 4} calls: admitted ${tier[200] ?? 0} ${JSON.stringify(tier)}`,
  );
  for (const [model, times] of [
    ['paced-a', 2],
    ['paced-b', 4],
  ] as const) {
    const before = sim.stats().byModel[model] ?? 0;
    const statuses = await burst(
      gateways,
      MODEL_LIMIT * times,
      (i) => ({ ...chatBody(`${model} ${i}`), model }),
      STEADY_KEY,
    );
    const upstream = (sim.stats().byModel[model] ?? 0) - before;
    rows.push(
      `model rpm ${MODEL_LIMIT}, ${MODEL_LIMIT * times} calls: reached the provider ${upstream} ${JSON.stringify(statuses)}`,
    );
  }
  sim.resetStats();
  sim.setMode({ latencyMs: 300 });
  const narrow = await burst(
    gateways,
    12,
    (i) => ({ ...chatBody(`narrow ${i}`), model: 'narrow' }),
    STEADY_KEY,
  );
  rows.push(
    `model max_concurrent ${CONCURRENT_LIMIT}, 12 calls at once: most in flight at the provider ${sim.stats().maxInFlight} ${JSON.stringify(narrow)}`,
  );
  console.log(`code: ${values.cli ?? 'this tree'}; [rate_limit] instances = ${values.instances}`);
  for (const row of rows) console.log(`  ${row}`);
} finally {
  await Promise.all(gateways.map((gateway) => gateway.stop().catch(() => {})));
  await sim.close();
  redis.kill('SIGKILL');
}
