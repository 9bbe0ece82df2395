import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { type GatewayOptions, type GatewayProcess, startGateways } from '../helpers/gateway.ts';
import { redisCli, startRedisCluster, startRedisSentinels } from '../helpers/redis-topologies.ts';
import { gatewayConfig } from './harness/config.ts';
import { chat, chatBody, waitUntil } from './harness/http.ts';
import { runLoad, summarize } from './harness/load.ts';

// Three gateway processes on a Redis Cluster (3 masters + replicas), then on a Sentinel set: a
// repeat on another instance is a hit, a tier limit and a model's provider limit hold exactly for
// the sum of the instances under uneven load (80% on one; per-process shares would admit fewer, or
// more with a wrong `instances`), and a master killed under load fails no client request, shows as
// degraded, and leaves both limits exact once the replica took over. The model windows are the
// provider's minute: each burst takes a few seconds, so "never more than the limit in any window"
// is "never more than the limit in the burst" (the simulator counts calls per model).

const PROVIDER_KEY = 'sk-provider-topologies-5b7c';
const STEADY_KEY = 'sk-steady-topologies-1e2d';
const TIERS = ['tight-0', 'tight-1'] as const;
const TIGHT_KEYS = TIERS.map((tier) => `sk-${tier}-topologies-8f9a`);
const TIER_LIMIT = 15;
const MODEL_LIMIT = 12;
/** Models with a provider limit of MODEL_LIMIT rpm; one whose keys sit on the killed master is burst after a failover. */
const PACED = Array.from({ length: 16 }, (_, i) => `paced-${i}`);
/** The steady load's model: limited far above the load, so every call still takes an admission in Redis. */
const STEADY_MODEL = 'gpt-4o-mini';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: PROVIDER_KEY, latencyMs: 5 });
});
afterAll(async () => {
  await sim?.close();
});

// Exactness needs every limiter decision made in Redis: on this loaded 2-core machine a 60-request
// burst through one connection took longer than the 50 ms default, and the local fallback (each
// process its `instances` share) then admitted more (30 of 15 once, on the Sentinel set).
const TIMEOUT = { redis_timeout_ms: 250 };

function gatewaysOn(topology: Pick<GatewayOptions, 'env'>, cache: Record<string, unknown> = {}) {
  return startGateways(3, {
    name: 'topology',
    env: { SIM_PROVIDER_KEY: PROVIDER_KEY, ...topology.env },
    config: gatewayConfig({
      simulatorUrl: sim.url,
      cache: { ...TIMEOUT, ...cache },
      rateLimit: { instances: 3 },
      models: [STEADY_MODEL, 'gpt-4o', ...PACED],
      modelOptions: {
        [STEADY_MODEL]: { rate_limit: 1_000_000, max_concurrent: 10_000 },
        ...Object.fromEntries(PACED.map((model) => [model, { rate_limit: MODEL_LIMIT }])),
      },
      tiers: {
        standard: { requests_per_minute: 1_000_000 },
        ...Object.fromEntries(TIERS.map((tier) => [tier, { requests_per_minute: TIER_LIMIT }])),
      },
      keys: [
        { key: STEADY_KEY, tenant: 'steady', tier: 'standard' },
        ...TIERS.map((tier, i) => ({ key: TIGHT_KEYS[i]!, tenant: `${tier}-tenant`, tier })),
      ],
    }),
  });
}

/** 200s out of a burst of 4×limit on one tight tenant, 80% of it sent to the first gateway. */
async function unevenBurst(gateways: GatewayProcess[], key: string, label: string): Promise<number> {
  const replies = await Promise.all(
    Array.from({ length: TIER_LIMIT * 4 }, (_, i) => {
      const gateway = i % 5 === 4 ? gateways[1 + (i % 2)]! : gateways[0]!;
      return chat(gateway.url, chatBody(`${label} ${i}`), { key });
    }),
  );
  expect(replies.every((reply) => reply.status === 200 || reply.status === 429)).toBe(true);
  return replies.filter((reply) => reply.status === 200).length;
}

/**
 * 200s out of 2×limit calls of `model` (new prompts, a tier far above them), 80% sent to the first
 * gateway, and the calls that reached the provider. Per-process shares would admit 4 + 2 + 2 here.
 */
async function modelBurst(gateways: GatewayProcess[], model: string, label: string) {
  const before = sim.stats().byModel[model] ?? 0;
  const replies = await Promise.all(
    Array.from({ length: MODEL_LIMIT * 2 }, (_, i) => {
      const gateway = i % 5 === 4 ? gateways[1 + (i % 2)]! : gateways[0]!;
      return chat(gateway.url, { ...chatBody(`${label} ${i}`), model }, { key: STEADY_KEY });
    }),
  );
  expect(replies.every((reply) => reply.status === 200 || reply.status === 503)).toBe(true);
  return {
    ok: replies.filter((reply) => reply.status === 200).length,
    upstream: (sim.stats().byModel[model] ?? 0) - before,
  };
}

/** A paced model whose Redis keys (hash tag {model}) are served by `masterPort` (else the last one). */
async function pacedModelOn(
  masterPort: number,
  viaPort: number,
  masterOf: (slot: number) => Promise<number>,
) {
  for (const model of PACED.slice(2)) {
    const slot = Number(await redisCli(viaPort, 'cluster', 'keyslot', `{${model}}`));
    if ((await masterOf(slot)) === masterPort) return model;
  }
  return PACED.at(-1)!;
}

async function readyz(gateway: GatewayProcess) {
  return (await (await fetch(`${gateway.url}/readyz`)).json()) as {
    status: string;
    store: { redis: string };
    model_limiter: { mode: string; degraded: boolean };
  };
}

const allStoresUp = (gateways: GatewayProcess[]) =>
  waitUntil(
    async () => (await Promise.all(gateways.map(readyz))).every((body) => body.store.redis === 'up'),
    'every gateway connected to Redis',
    30_000,
  );

/** Steady load over the gateways while `disturb` kills a master; what the clients saw. */
async function failoverUnderLoad(gateways: GatewayProcess[], disturb: () => Promise<void>) {
  let degradedSeen = false;
  let modelFallbackSeen = false;
  let lastDegradedAt = 0;
  let watching = true;
  const watch = (async () => {
    while (watching) {
      for (const gateway of gateways) {
        const body = await readyz(gateway).catch(() => undefined);
        if (body?.model_limiter.mode === 'local-fallback' && body.model_limiter.degraded) {
          modelFallbackSeen = true;
        }
        if (body?.store.redis === 'down') {
          degradedSeen = true;
          lastDegradedAt = performance.now();
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  let killedAt = 0;
  const chaos = (async () => {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    killedAt = performance.now();
    await disturb();
  })();
  const loadStart = performance.now();
  const samples = await runLoad({
    rps: 30,
    durationMs: 12_000,
    request: async (i) => {
      const prompt = i % 2 === 0 ? `steady repeated ${i % 20}` : `steady new ${i}`;
      const reply = await chat(gateways[i % gateways.length]!.url, chatBody(prompt), {
        key: STEADY_KEY,
        timeoutMs: 15_000,
      });
      return { status: reply.status };
    },
  });
  await chaos;
  await waitUntil(
    async () => (await Promise.all(gateways.map(readyz))).every((body) => body.status === 'ready'),
    'every gateway ready again',
    30_000,
  );
  watching = false;
  await watch;
  // Until the last /readyz (polled every 100 ms) that still said the store was down.
  const recoveredMs = lastDegradedAt - killedAt;
  const during = summarize(samples.filter((sample) => loadStart + sample.at >= killedAt));
  return { samples, during, degradedSeen, modelFallbackSeen, recoveredMs };
}

describe('three gateways on a Redis Cluster', () => {
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
  let gateways: GatewayProcess[] = [];
  beforeAll(async () => {
    cluster = await startRedisCluster();
    gateways = await gatewaysOn({ env: { REDIS_CLUSTER_NODES: cluster.urls.join(',') } });
    await allStoresUp(gateways);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await cluster?.stop();
  });

  it('shares entries (a repeat on another instance is a hit) and holds a tier limit and a model limit exactly under uneven load', async () => {
    const body = chatBody('cluster shared entry');
    sim.resetStats();
    expect((await chat(gateways[0]!.url, body, { key: STEADY_KEY })).status).toBe(200);
    for (const gateway of gateways.slice(1)) {
      const reply = await chat(gateway.url, body, { key: STEADY_KEY });
      expect(reply.headers.get('cache-status'), gateway.name).toMatch(/; hit/);
    }
    expect(sim.stats().requests).toBe(1);
    expect(await unevenBurst(gateways, TIGHT_KEYS[0]!, 'cluster burst')).toBe(TIER_LIMIT);
    expect(await modelBurst(gateways, PACED[0]!, 'cluster model burst')).toEqual({
      ok: MODEL_LIMIT,
      upstream: MODEL_LIMIT,
    });
  });

  it('fails no client request while a master is killed under load, shows it, and is exact again after', async () => {
    // The master owning the second tight tenant's limiter keys (hash tag {tenant}).
    const masters = await cluster.masters();
    const slot = Number(await redisCli(masters[0]!, 'cluster', 'keyslot', `{${TIERS[1]}-tenant}`));
    const victim = await cluster.masterOf(slot);
    const survivor = masters.find((port) => port !== victim)!;
    const model = await pacedModelOn(victim, survivor, (s) => cluster.masterOf(s));
    const report = await failoverUnderLoad(gateways, () => cluster.kill(victim));
    console.info(
      `cluster master kill -9 under 30 req/s: ${JSON.stringify(report.during)}; degraded until ${report.recoveredMs.toFixed(0)} ms after the kill`,
    );
    expect(report.samples.filter((sample) => sample.status !== 200)).toEqual([]);
    expect(report.degradedSeen).toBe(true);
    expect(report.modelFallbackSeen).toBe(true);
    await cluster.healthy();
    expect(await unevenBurst(gateways, TIGHT_KEYS[1]!, 'cluster after failover')).toBe(TIER_LIMIT);
    expect(await modelBurst(gateways, model, 'cluster model after failover')).toEqual({
      ok: MODEL_LIMIT,
      upstream: MODEL_LIMIT,
    });
  }, 120_000);
});

describe('three gateways on a Redis Sentinel set', () => {
  let sentinels: Awaited<ReturnType<typeof startRedisSentinels>>;
  let gateways: GatewayProcess[] = [];
  beforeAll(async () => {
    sentinels = await startRedisSentinels();
    gateways = await gatewaysOn(
      {},
      { 'redis_sentinel.name': sentinels.name, 'redis_sentinel.nodes': [...sentinels.urls] },
    );
    await allStoresUp(gateways);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await sentinels?.stop();
  });

  it('shares entries and holds a tier limit and a model limit exactly under uneven load', async () => {
    const body = chatBody('sentinel shared entry');
    sim.resetStats();
    expect((await chat(gateways[0]!.url, body, { key: STEADY_KEY })).status).toBe(200);
    for (const gateway of gateways.slice(1)) {
      const reply = await chat(gateway.url, body, { key: STEADY_KEY });
      expect(reply.headers.get('cache-status'), gateway.name).toMatch(/; hit/);
    }
    expect(sim.stats().requests).toBe(1);
    expect(await unevenBurst(gateways, TIGHT_KEYS[0]!, 'sentinel burst')).toBe(TIER_LIMIT);
    expect(await modelBurst(gateways, PACED[0]!, 'sentinel model burst')).toEqual({
      ok: MODEL_LIMIT,
      upstream: MODEL_LIMIT,
    });
  });

  it('fails no client request while the master is killed under load, shows it, and is exact again after', async () => {
    const before = await sentinels.master();
    const report = await failoverUnderLoad(gateways, () => sentinels.kill(before));
    console.info(
      `sentinel master kill -9 under 30 req/s: ${JSON.stringify(report.during)}; degraded until ${report.recoveredMs.toFixed(0)} ms after the kill`,
    );
    expect(report.samples.filter((sample) => sample.status !== 200)).toEqual([]);
    expect(report.degradedSeen).toBe(true);
    expect(report.modelFallbackSeen).toBe(true);
    expect(await sentinels.master()).not.toBe(before);
    expect(await unevenBurst(gateways, TIGHT_KEYS[1]!, 'sentinel after failover')).toBe(TIER_LIMIT);
    expect(await modelBurst(gateways, PACED[1]!, 'sentinel model after failover')).toEqual({
      ok: MODEL_LIMIT,
      upstream: MODEL_LIMIT,
    });
  }, 120_000);
});
