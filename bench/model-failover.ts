/**
 * A model limit across a Redis Cluster master failover: three gateway processes on a 3-master test
 * cluster (ports 7100-7199, `cluster-node-timeout 2000`), open-loop load for 12 s of which 80% goes
 * to the first gateway: `--rps` calls/s of a model limited to `--limit` rpm (new prompts) plus 24
 * calls/s of an unlimited model spread over the gateways. After 3 s the master holding the limited
 * model's keys is killed (kill -9). Prints the limited model's calls that reached the provider within
 * the burst (which is shorter than the provider's one-minute window) against the limit, and the
 * client statuses and latency of both loads from the kill on.
 *
 * Usage: node bench/model-failover.ts [--cli src/cli/main.ts] [--limit 30] [--rps 6]
 */
import { parseArgs } from 'node:util';
import { startSimulator } from '../src/simulator/index.ts';
import { gatewayConfig } from '../test/e2e/harness/config.ts';
import { chat, chatBody } from '../test/e2e/harness/http.ts';
import { runLoad, summarize } from '../test/e2e/harness/load.ts';
import { startGateways } from '../test/helpers/gateway.ts';
import { redisCli, startRedisCluster } from '../test/helpers/redis-topologies.ts';

const { values } = parseArgs({
  options: {
    cli: { type: 'string' },
    limit: { type: 'string', default: '30' },
    rps: { type: 'string', default: '6' },
  },
});
const LIMIT = Number(values.limit);
const PROVIDER_KEY = 'sk-provider-bench-failover';
const CLIENT_KEY = 'sk-bench-failover-client-1234';
const MODEL = 'paced';

const cluster = await startRedisCluster();
const sim = await startSimulator({ apiKey: PROVIDER_KEY, latencyMs: 5 });
const gateways = await startGateways(3, {
  name: 'bench-model-failover',
  ...(values.cli ? { cli: values.cli } : {}),
  env: { SIM_PROVIDER_KEY: PROVIDER_KEY, REDIS_CLUSTER_NODES: cluster.urls.join(',') },
  scanSecrets: false,
  config: gatewayConfig({
    simulatorUrl: sim.url,
    cache: { redis_timeout_ms: 250 },
    rateLimit: { instances: 3 },
    tiers: { standard: { requests_per_minute: 1_000_000 } },
    keys: [{ key: CLIENT_KEY, tenant: 'bench', tier: 'standard' }],
    models: ['gpt-4o-mini', MODEL],
    modelOptions: { [MODEL]: { rate_limit: LIMIT } },
  }),
});
try {
  for (const gateway of gateways) {
    for (let i = 0; i < 300; i++) {
      const body = (await (await fetch(`${gateway.url}/readyz`)).json()) as { store: { redis: string } };
      if (body.store.redis === 'up') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const masters = await cluster.masters();
  const slot = Number(await redisCli(masters[0]!, 'cluster', 'keyslot', `{${MODEL}}`));
  const victim = await cluster.masterOf(slot);
  const started = performance.now();
  let killedAt = 0;
  const chaos = (async () => {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    killedAt = performance.now() - started;
    await cluster.kill(victim);
  })();
  const durationMs = 12_000;
  const errors = new Set<string>();
  const [limited, steady] = await Promise.all([
    runLoad({
      rps: Number(values.rps),
      durationMs,
      request: async (i) => {
        const gateway = i % 5 === 4 ? gateways[1 + (i % 2)]! : gateways[0]!;
        const reply = await chat(
          gateway.url,
          { ...chatBody(`limited ${i}`), model: MODEL },
          { key: CLIENT_KEY, timeoutMs: 15_000 },
        );
        return { status: reply.status };
      },
    }),
    runLoad({
      rps: 24,
      durationMs,
      request: async (i) => {
        const reply = await chat(gateways[i % 3]!.url, chatBody(`steady ${i}`), {
          key: CLIENT_KEY,
          timeoutMs: 15_000,
        });
        if (reply.status !== 200) errors.add(reply.text.slice(0, 300));
        return { status: reply.status };
      },
    }),
  ]);
  await chaos;
  const fromKill = (samples: typeof limited) => summarize(samples.filter((s) => s.at >= killedAt));
  console.log(`code: ${values.cli ?? 'this tree'}; master ${victim} killed at ${Math.round(killedAt)} ms`);
  console.log(
    `  ${MODEL} (limit ${LIMIT} rpm): ${limited.length} calls in ${durationMs / 1000} s, reached the provider ${sim.stats().byModel[MODEL] ?? 0}`,
  );
  console.log(`  ${MODEL} from the kill on: ${JSON.stringify(fromKill(limited))}`);
  console.log(`  unlimited model from the kill on: ${JSON.stringify(fromKill(steady))}`);
  for (const error of errors) console.log(`  unlimited model error: ${error}`);
} finally {
  await Promise.all(gateways.map((gateway) => gateway.stop().catch(() => {})));
  await sim.close();
  await cluster.stop();
}
