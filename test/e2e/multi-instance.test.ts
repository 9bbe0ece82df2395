import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { type GatewayProcess, startGateways } from '../helpers/gateway.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { gatewayConfig } from './harness/config.ts';
import { expectNoSecrets, logsAndExports, scrapeMetrics, stopAndCollect } from './harness/emitted.ts';
import { chat, chatBody, errorCode, waitUntil } from './harness/http.ts';
import { type OtlpSink, startOtlpSink } from './harness/otlp-sink.ts';
import { parsePrometheus, sumOf } from './harness/prometheus.ts';
import { type ScannedText, SecretScanner } from './harness/secrets.ts';

// Three gateway processes, no balancer (the test spreads requests), one Redis, one simulated provider:
// cache entries are shared, a tier limit is global and exact under a burst, breakers are per process.

const scanner = new SecretScanner();
const PROVIDER_KEY = scanner.add('provider key', 'sk-provider-mi-7c1d44e0b9');
const ALICE = scanner.add('alice key', 'sk-alice-mi-5e8f0a21c3');
const BOB = scanner.add('bob key', 'sk-bob-mi-93d1b7aa02');
const BURST = scanner.add('burst key', 'sk-burst-mi-1f2e3d4c5b');
const PROMPT = scanner.add('prompt', 'CANARY-prompt-multi-4471');
const TIER_LIMIT = 20;
const ask = (text: string) => chatBody(`${PROMPT} ${text}`);

let redis: RedisServer;
let sim: Simulator;
let sink: OtlpSink;
let gateways: GatewayProcess[] = [];
const emitted: ScannedText[] = [];

beforeAll(async () => {
  [redis, sim, sink] = await Promise.all([
    startRedis(),
    startSimulator({ apiKey: PROVIDER_KEY, latencyMs: 5 }),
    startOtlpSink(),
  ]);
  gateways = await startGateways(3, {
    name: 'multi',
    redisUrl: redis.url,
    otlpEndpoint: sink.url,
    env: { SIM_PROVIDER_KEY: PROVIDER_KEY },
    config: gatewayConfig({
      simulatorUrl: sim.url,
      tiers: { standard: { requests_per_minute: 100_000 }, burst: { requests_per_minute: TIER_LIMIT } },
      keys: [
        { key: ALICE, tenant: 'alice', tier: 'standard' },
        { key: BOB, tenant: 'bob', tier: 'standard' },
        { key: BURST, tenant: 'burst', tier: 'burst' },
      ],
      models: ['gpt-4o-mini', 'gpt-4o', 'broken-model'],
      breaker: { failure_threshold: 3, half_open_after: 30, max_retries: 0 },
    }),
  });
});

afterAll(async () => {
  await stopAndCollect(gateways, emitted, sink);
  await Promise.all([sim?.close(), redis?.stop(), sink?.close()]);
  expectNoSecrets(scanner, emitted);
});

const cacheStatus = (reply: { headers: Headers }) => reply.headers.get('cache-status') ?? '';

describe('three gateways sharing one Redis', () => {
  it('share cache entries: a miss on one process is a hit on the others', async () => {
    const body = ask('multi-instance shared entry, deterministic prompt');
    sim.resetStats();
    const first = await chat(gateways[0]!.url, body, { key: ALICE });
    expect(first.status).toBe(200);
    expect(cacheStatus(first)).toMatch(/fwd=miss/);
    for (const gateway of gateways.slice(1)) {
      const reply = await chat(gateway.url, body, { key: ALICE });
      expect(reply.status).toBe(200);
      expect(cacheStatus(reply), gateway.name).toMatch(/;\s*hit/);
      expect(reply.text).toBe(first.text);
    }
    expect(sim.stats().requests).toBe(1);
  });

  it('never serves one tenant an entry stored by another, on any process', async () => {
    const body = ask('multi-instance isolation prompt');
    await chat(gateways[0]!.url, body, { key: ALICE });
    sim.resetStats();
    for (const gateway of gateways) {
      const reply = await chat(gateway.url, body, { key: BOB });
      expect(reply.status).toBe(200);
      if (gateway === gateways[0]) expect(cacheStatus(reply)).toMatch(/fwd=miss/);
      else expect(cacheStatus(reply), gateway.name).toMatch(/;\s*hit/); // Bob's own entry, stored by gw0
    }
    // Bob's first request went upstream even though Alice's identical entry existed.
    expect(sim.stats().requests).toBe(1);
  });

  it('enforces a tier limit globally and exactly under a burst spread over the processes', async () => {
    const total = TIER_LIMIT * 5;
    const replies = await Promise.all(
      Array.from({ length: total }, (_, i) =>
        chat(gateways[i % gateways.length]!.url, ask(`burst ${i}`), { key: BURST }),
      ),
    );
    const ok = replies.filter((reply) => reply.status === 200);
    const limited = replies.filter((reply) => reply.status === 429);
    expect(ok.length + limited.length).toBe(total);
    // Regression guard: when a busy process timed out healthy Redis calls after 50 ms, limiter scripts
    // fell over to the per-process fallback bucket although Redis had already counted them (58 of 20
    // admitted here, before the connection's deadline learnt to yield to pending I/O).
    expect(ok.length, 'admitted by the global tier limit').toBe(TIER_LIMIT);
    for (const reply of limited) {
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(errorCode(reply)).toBe('rate_limited_tier');
    }
  });

  it('keeps breakers per process: one process opening its breaker does not open the others', async () => {
    sim.setMode({ fail: '500', model: 'broken-model' });
    try {
      const gw0 = gateways[0]!;
      const seen: number[] = [];
      for (let i = 0; i < 6; i++) {
        seen.push(
          (
            await chat(
              gw0.url,
              { model: 'broken-model', messages: [{ role: 'user', content: `${PROMPT} b${i}` }] },
              { key: ALICE },
            )
          ).status,
        );
      }
      expect(seen.slice(0, 3).every((status) => status === 502)).toBe(true);
      expect(seen.slice(3)).toEqual([503, 503, 503]);
      // The other processes still try the provider (502 from upstream, not 503 from an open breaker).
      for (const gateway of gateways.slice(1)) {
        const reply = await chat(
          gateway.url,
          { model: 'broken-model', messages: [{ role: 'user', content: `${PROMPT} x` }] },
          { key: ALICE },
        );
        expect(reply.status, gateway.name).toBe(502);
      }
      const open = await waitUntil(async () => {
        const samples = parsePrometheus(await gw0.metrics());
        return (
          sumOf(samples, 'alchemist_circuit_breaker_state', { alchemist_circuit_breaker_state: 'open' }) >= 1
        );
      }, 'gw0 breaker open in /metrics');
      expect(open).toBe(true);
      const gw1Open = sumOf(
        parsePrometheus(await gateways[1]!.metrics()),
        'alchemist_circuit_breaker_state',
        {
          alchemist_circuit_breaker_state: 'open',
        },
      );
      expect(gw1Open).toBe(0);
    } finally {
      sim.setMode(null);
    }
  });

  it('leaks no key, provider key or prompt into any process log, /metrics or OTLP export', async () => {
    // Scanned in afterAll once the processes flushed; this test checks what is there so far.
    const texts = [...(await scrapeMetrics(gateways)), ...logsAndExports(gateways, sink)];
    expect(scanner.scan(texts)).toEqual([]);
  });
});
