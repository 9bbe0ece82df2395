import { expect } from 'vitest';
import { startSimulator } from '../../../src/simulator/index.ts';
import { type GatewayProcess, startGateways } from '../../helpers/gateway.ts';
import { startRedis } from '../../helpers/redis.ts';
import { gatewayConfig } from './config.ts';
import { chat, chatBody, waitUntil } from './http.ts';
import { runLoad, type Sample, summarize } from './load.ts';
import { parsePrometheus, sumOf } from './prometheus.ts';
import { SecretScanner } from './secrets.ts';

export interface RedisOutageOptions {
  /** How long Redis stays down, in ms. */
  outageMs: number;
  /** Steady request rate over all gateways. @default 40 */
  rps?: number;
  /** Load before the kill and after the restart, in ms. @default 1500 / 3000 */
  beforeMs?: number;
  afterMs?: number;
  /** Gateways sharing the Redis. @default 2 */
  gateways?: number;
}

type Phase = 'before' | 'outage' | 'after';

export interface RedisOutageReport {
  readonly phases: Record<Phase, ReturnType<typeof summarize>>;
  /** Requests that did not get a 200. */
  readonly failed: readonly Sample[];
  /** `alchemist.store.available` as seen in /metrics while Redis was down (per gateway). */
  readonly storeAvailableDuringOutage: readonly number[];
  /** `/readyz` status and body seen while Redis was down, per gateway. */
  readonly readyzDuringOutage: readonly string[];
  /** `/readyz` status and body once recovered, per gateway. */
  readonly readyzAfter: readonly string[];
  /** ms from the restart until every gateway reported the store available again. */
  readonly recoveryMs: number;
  /** 200s out of a burst of 5×limit on the tight tier while Redis was down (each process: limit / instances). */
  readonly burstAdmittedDuringOutage: number;
  /** 200s out of a burst of 5×limit on a tight tier spread over the gateways, once recovered. */
  readonly burstAdmittedAfter: number;
  readonly tierLimit: number;
  /** Secrets found in logs or /metrics (should be none). */
  readonly leaks: readonly unknown[];
}

const TIER_LIMIT = 15;

/**
 * Steady mixed traffic (repeated prompts that hit, new prompts that miss) over gateways sharing one
 * Redis; Redis is SIGKILLed, kept down for `outageMs`, restarted. Reports latency per phase, every
 * non-200, what the gateways exposed while degraded, and whether limits are global again after.
 */
export async function redisOutage(options: RedisOutageOptions): Promise<RedisOutageReport> {
  const scanner = new SecretScanner();
  const providerKey = scanner.add('provider key', 'sk-provider-outage-0c9d8e7f');
  const key = scanner.add('client key', 'sk-client-outage-5a6b7c8d');
  const tightKey = scanner.add('tight key', 'sk-tight-outage-1a2b3c4d');
  const beforeMs = options.beforeMs ?? 1500;
  const afterMs = options.afterMs ?? 3000;
  const redis = await startRedis();
  const sim = await startSimulator({ apiKey: providerKey, latencyMs: 5 });
  let gateways: GatewayProcess[] = [];
  try {
    const count = options.gateways ?? 2;
    gateways = await startGateways(count, {
      name: 'outage',
      redisUrl: redis.url,
      env: { SIM_PROVIDER_KEY: providerKey },
      config: gatewayConfig({
        simulatorUrl: sim.url,
        // While Redis is down each process enforces limit / instances, so the sum stays within the limit.
        rateLimit: { instances: count },
        tiers: { standard: { requests_per_minute: 1_000_000 }, tight: { requests_per_minute: TIER_LIMIT } },
        keys: [
          { key, tenant: 'steady', tier: 'standard' },
          { key: tightKey, tenant: 'tight', tier: 'tight' },
        ],
      }),
    });
    const storeAvailable = async (gateway: GatewayProcess) =>
      sumOf(parsePrometheus(await gateway.metrics()), 'alchemist_store_available');

    // Warm up (JIT, connection pools, Redis scripts) so the 'before' phase is a fair baseline.
    for (const gateway of gateways) {
      for (let i = 0; i < 5; i++) await chat(gateway.url, chatBody(`warm-up ${i}`), { key });
    }
    let killedAt = Number.POSITIVE_INFINITY;
    let restartedAt = Number.POSITIVE_INFINITY;
    const storeDuring: number[] = [];
    let burstDuring = -1;
    const readyz: string[] = [];
    const chaos = (async () => {
      await new Promise((resolve) => setTimeout(resolve, beforeMs));
      await redis.kill();
      killedAt = performance.now();
      // Let the gateways notice, then record what they expose while degraded.
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, options.outageMs / 2)));
      for (const gateway of gateways) {
        storeDuring.push(await storeAvailable(gateway));
        const response = await fetch(`${gateway.url}/readyz`);
        readyz.push(`${response.status} ${await response.text()}`);
      }
      // Limits while degraded: each process falls back to its own local limit, never to "unlimited".
      const during = await Promise.all(
        Array.from({ length: TIER_LIMIT * 5 }, (_, i) =>
          chat(gateways[i % gateways.length]!.url, chatBody(`tight during ${i}`), { key: tightKey }),
        ),
      );
      burstDuring = during.filter((reply) => reply.status === 200).length;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, killedAt + options.outageMs - performance.now())),
      );
      await redis.restart();
      restartedAt = performance.now();
    })();

    const loadStart = performance.now();
    const samples = await runLoad({
      rps: options.rps ?? 40,
      durationMs: beforeMs + options.outageMs + afterMs,
      request: async (i) => {
        const gateway = gateways[i % gateways.length]!;
        // Half repeat one of 20 prompts (hits once warm), half are new (misses that go upstream).
        const prompt = i % 2 === 0 ? `steady repeated ${i % 20}` : `steady new ${i}`;
        const reply = await chat(gateway.url, chatBody(prompt), { key, timeoutMs: 15_000 });
        return { status: reply.status, note: reply.headers.get('cache-status') ?? '' };
      },
    });
    await chaos;

    const recoveryStart = performance.now();
    await waitUntil(
      async () => (await Promise.all(gateways.map(storeAvailable))).every((value) => value === 1),
      'every gateway to report Redis available again',
      20_000,
    );
    const recoveryMs = Math.max(0, performance.now() - restartedAt) || performance.now() - recoveryStart;

    const readyzAfter = await Promise.all(
      gateways.map(async (gateway) => {
        const response = await fetch(`${gateway.url}/readyz`);
        return `${response.status} ${await response.text()}`;
      }),
    );
    const burst = await Promise.all(
      Array.from({ length: TIER_LIMIT * 5 }, (_, i) =>
        chat(gateways[i % gateways.length]!.url, chatBody(`tight ${i}`), { key: tightKey }),
      ),
    );

    const phaseOf = (sample: Sample): Phase => {
      const at = loadStart + sample.at;
      return at < killedAt ? 'before' : at < restartedAt ? 'outage' : 'after';
    };
    const by = (phase: Phase) => samples.filter((sample) => phaseOf(sample) === phase);
    const texts = [
      ...(await Promise.all(
        gateways.map(async (g) => ({ source: `${g.name} /metrics`, text: await g.metrics() })),
      )),
      ...gateways.map((g) => ({ source: `${g.name} logs`, text: g.logs() })),
    ];
    return {
      phases: {
        before: summarize(by('before')),
        outage: summarize(by('outage')),
        after: summarize(by('after')),
      },
      failed: samples.filter((sample) => sample.status !== 200),
      storeAvailableDuringOutage: storeDuring,
      readyzDuringOutage: readyz,
      readyzAfter,
      recoveryMs: Math.round(recoveryMs),
      burstAdmittedDuringOutage: burstDuring,
      burstAdmittedAfter: burst.filter((reply) => reply.status === 200).length,
      tierLimit: TIER_LIMIT,
      leaks: scanner.scan(texts),
    };
  } finally {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    await Promise.all([sim.close(), redis.stop()]);
  }
}

/**
 * What every Redis outage must show: no failed request, the degraded state visible (gauge 0, /readyz
 * 200 with the local fallback), limits per process within the global one while down, exact after.
 */
export function expectOutageServed(report: RedisOutageReport): void {
  expect(report.failed).toEqual([]);
  expect(report.storeAvailableDuringOutage.every((value) => value === 0)).toBe(true);
  // Degraded is visible on /readyz but still ready (200): the process keeps serving.
  for (const readyz of report.readyzDuringOutage) {
    expect(readyz).toMatch(/^200 /);
    expect(readyz).toContain('"redis":"down"');
    expect(readyz).toContain('"mode":"local-fallback"');
  }
  for (const readyz of report.readyzAfter) expect(readyz).toContain('"mode":"redis"');
  // Degraded, each process enforces limit / instances on its own: limited, never unlimited, and
  // the sum over the processes stays within the global limit.
  expect(report.burstAdmittedDuringOutage).toBeGreaterThan(0);
  expect(report.burstAdmittedDuringOutage).toBeLessThanOrEqual(report.tierLimit);
  expect(report.burstAdmittedAfter).toBe(report.tierLimit);
  expect(report.leaks).toEqual([]);
}
