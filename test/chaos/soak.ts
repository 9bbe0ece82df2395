/**
 * Soak: N minutes of mixed traffic against a gateway process (Redis-backed cache and limits, the
 * simulated provider with a failing model), sampling the gateway's RSS, heap, open file descriptors
 * and event-loop delay. Not part of any default run:
 *
 *   node test/chaos/soak.ts [--minutes 10] [--rps 60] [--out soak.json]
 *   ALCHEMIST_SOAK=1 npm run test:chaos -- test/chaos/soak.test.ts
 *
 * Exits 1 when the median RSS grows by more than 64 MB after warm-up, the heap after a forced GC
 * grows by more than 32 MB (the cache's own bound is 5000 entries), the idle gateway holds more than
 * 5 descriptors more after the load than before it, the median event-loop delay p99 exceeds 50 ms, or
 * a request gets a status its scenario does not expect.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startSimulator } from '../../src/simulator/index.ts';
import { gatewayConfig } from '../e2e/harness/config.ts';
import { chat, chatBody } from '../e2e/harness/http.ts';
import { heapAfterGc } from '../e2e/harness/inspector.ts';
import { percentile } from '../e2e/harness/load.ts';
import { openFds, rssOf } from '../e2e/harness/proc.ts';
import { parsePrometheus, sumOf } from '../e2e/harness/prometheus.ts';
import { startGateway } from '../helpers/gateway.ts';
import { freePort } from '../helpers/ports.ts';
import { startRedis } from '../helpers/redis.ts';

export interface SoakOptions {
  /** Length of the run. @default 10 */
  minutes?: number;
  /** Requests per second. @default 60 */
  rps?: number;
  /** Seconds between samples. @default 15 */
  sampleSeconds?: number;
  /** Progress lines go here. @default console.log */
  log?: (line: string) => void;
}

export interface SoakWindow {
  readonly atS: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly fds: number;
  readonly eventLoopP99Ms: number;
  readonly eventLoopMaxMs: number;
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface SoakReport {
  readonly minutes: number;
  readonly rps: number;
  readonly windows: readonly SoakWindow[];
  /**
   * Median RSS over the last third of the run minus the median over minutes 1 to 3, MB. Medians of
   * windows, because RSS and heap saw-tooth with GC and a single sample says little.
   */
  readonly rssGrowthMb: number;
  readonly heapGrowthMb: number;
  /** Heap after a forced full GC with the gateway idle, before and after the load, MB. */
  readonly gcHeapBeforeMb: number;
  readonly gcHeapAfterMb: number;
  /** Open descriptors with the gateway idle, after warm-up and again after the load stopped. */
  readonly idleFdsBefore: number;
  readonly idleFdsAfter: number;
  /** idleFdsAfter − idleFdsBefore: sockets, timers' handles or files left open by the load. */
  readonly fdGrowth: number;
  /** Worst and median per-window event-loop delay p99, ms (the first window is warm-up). */
  readonly worstEventLoopP99Ms: number;
  readonly medianEventLoopP99Ms: number;
  /** Requests answered with a status no scenario expects (5xx other than the failing model's, or 0). */
  readonly unexpected: number;
  readonly verdict: 'pass' | 'fail';
  readonly reasons: readonly string[];
}

const round = (value: number) => Math.round(value * 10) / 10;

/** Run the soak and return its report (gateway, Redis and simulator are stopped afterwards). */
export async function runSoak(options: SoakOptions = {}): Promise<SoakReport> {
  const minutes = options.minutes ?? 10;
  const rps = options.rps ?? 60;
  const log = options.log ?? ((line: string) => console.log(line));
  const providerKey = 'sk-provider-soak-1234567';
  const key = 'sk-client-soak-abcdef01';
  const tightKey = 'sk-client-soak-tight-0002';
  const redis = await startRedis();
  const sim = await startSimulator({ apiKey: providerKey, latencyMs: 20, jitterMs: 30, chunkDelayMs: 5 });
  sim.setMode({ fail: '500', rate: 0.2, model: 'flaky-model' });
  const inspectPort = await freePort();
  const gateway = await startGateway({
    name: 'soak',
    redisUrl: redis.url,
    // The inspector lets the soak read the heap after a forced GC, before and after the load.
    env: { SIM_PROVIDER_KEY: providerKey, NODE_OPTIONS: `--inspect=127.0.0.1:${inspectPort}` },
    config: gatewayConfig({
      simulatorUrl: sim.url,
      tiers: { standard: { requests_per_minute: 1_000_000 }, tight: { requests_per_minute: 30 } },
      keys: [
        { key, tenant: 'soak', tier: 'standard' },
        { key: tightKey, tenant: 'soak-tight', tier: 'tight' },
      ],
      models: ['gpt-4o-mini', 'gpt-4o', 'flaky-model'],
      breaker: { failure_threshold: 5, half_open_after: 2, timeout: 5, max_retries: 1 },
      cache: { default_ttl: 120, max_memory_items: 5000 },
    }),
  });
  const windows: SoakWindow[] = [];
  let unexpected = 0;
  // Idle descriptors once keep-alive sockets (client 4 s, server 5 s) have timed out.
  const idleFds = async () => {
    await new Promise((resolve) => setTimeout(resolve, 7000));
    return openFds(gateway.pid) ?? -1;
  };
  let idleFdsBefore = -1;
  let idleFdsAfter = -1;
  let gcHeapBefore = 0;
  let gcHeapAfter = 0;
  try {
    for (let i = 0; i < 20; i++)
      await chat(gateway.url, chatBody(`soak warm-up ${i}`, { stream: i % 2 === 0 }), { key });
    idleFdsBefore = await idleFds();
    gcHeapBefore = await heapAfterGc(inspectPort);
    let current: { status: number; ms: number }[] = [];
    const send = async (i: number) => {
      const kind = i % 20;
      const started = performance.now();
      let status = 0;
      let allowed: number[] = [200];
      try {
        if (kind < 8)
          status = (await chat(gateway.url, chatBody(`soak repeated ${i % 200}`), { key })).status;
        else if (kind < 13) status = (await chat(gateway.url, chatBody(`soak new ${i}`), { key })).status;
        else if (kind < 16) {
          const prompt = kind === 13 ? `soak stream ${i % 50}` : `soak stream new ${i}`;
          status = (await chat(gateway.url, chatBody(prompt, { stream: true }), { key })).status;
        } else if (kind === 16) {
          allowed = [200, 502, 503];
          status = (await chat(gateway.url, chatBody(`flaky ${i}`, { model: 'flaky-model' }), { key }))
            .status;
        } else if (kind === 17) {
          allowed = [200, 429];
          status = (await chat(gateway.url, chatBody(`tight ${i}`), { key: tightKey })).status;
        } else if (kind === 18) {
          allowed = [400];
          status = (await chat(gateway.url, '{"model":', { key })).status;
        } else {
          allowed = [401];
          status = (await chat(gateway.url, chatBody('who'), { key: `sk-unknown-soak-${i}` })).status;
        }
      } catch {
        status = 0;
      }
      if (!allowed.includes(status)) unexpected++;
      current.push({ status, ms: performance.now() - started });
    };

    const started = performance.now();
    const endAt = started + minutes * 60_000;
    let sent = 0;
    let nextSample = started + (options.sampleSeconds ?? 15) * 1000;
    const pending = new Set<Promise<void>>();
    while (performance.now() < endAt) {
      const due = Math.floor(((performance.now() - started) / 1000) * rps);
      while (sent < due && pending.size < 500) {
        const run = send(sent++);
        const tracked = run.finally(() => pending.delete(tracked));
        pending.add(tracked);
      }
      if (performance.now() >= nextSample) {
        nextSample += (options.sampleSeconds ?? 15) * 1000;
        const samples = parsePrometheus(await gateway.metrics());
        const latencies = current.map((r) => r.ms);
        const byStatus: Record<string, number> = {};
        for (const r of current) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
        const window: SoakWindow = {
          atS: Math.round((performance.now() - started) / 1000),
          rssMb: round((rssOf(gateway.pid) ?? 0) / 1e6),
          heapMb: round(sumOf(samples, 'v8js_memory_heap_used') / 1e6),
          fds: openFds(gateway.pid) ?? -1,
          eventLoopP99Ms: round(sumOf(samples, 'nodejs_eventloop_delay_p99') * 1000),
          eventLoopMaxMs: round(sumOf(samples, 'nodejs_eventloop_delay_max') * 1000),
          requests: current.length,
          byStatus,
          p50Ms: round(percentile(latencies, 50)),
          p99Ms: round(percentile(latencies, 99)),
        };
        current = [];
        windows.push(window);
        log(JSON.stringify(window));
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(pending);
    idleFdsAfter = await idleFds();
    gcHeapAfter = await heapAfterGc(inspectPort);
  } finally {
    await gateway.stop();
    await Promise.all([sim.close(), redis.stop()]);
  }

  const totalS = minutes * 60;
  const early = windows.filter(
    (w) => w.atS >= Math.min(60, totalS / 4) && w.atS <= Math.max(180, totalS / 3),
  );
  const late = windows.filter((w) => w.atS >= (totalS * 2) / 3);
  const median = (values: number[]) => (values.length === 0 ? 0 : percentile(values, 50));
  const rssGrowthMb = round(median(late.map((w) => w.rssMb)) - median(early.map((w) => w.rssMb)));
  const heapGrowthMb = round(median(late.map((w) => w.heapMb)) - median(early.map((w) => w.heapMb)));
  const fdGrowth = idleFdsAfter - idleFdsBefore;
  const loopP99s = windows.slice(1).map((window) => window.eventLoopP99Ms);
  const worstEventLoopP99Ms = Math.max(0, ...loopP99s);
  const medianEventLoopP99Ms = round(median(loopP99s));
  const reasons: string[] = [];
  if (rssGrowthMb > 64) reasons.push(`RSS grew ${rssGrowthMb} MB after warm-up`);
  // The cache may hold up to 5000 entries (max_memory_items) of a few KB: that is the budget.
  if (gcHeapAfter - gcHeapBefore > 32e6) {
    reasons.push(`heap after GC grew ${round((gcHeapAfter - gcHeapBefore) / 1e6)} MB`);
  }
  if (fdGrowth > 5) reasons.push(`idle open descriptors grew by ${fdGrowth}`);
  if (medianEventLoopP99Ms > 50) reasons.push(`median event-loop delay p99 was ${medianEventLoopP99Ms} ms`);
  if (unexpected > 0) reasons.push(`${unexpected} requests got an unexpected status`);
  return {
    minutes,
    rps,
    windows,
    rssGrowthMb,
    heapGrowthMb,
    gcHeapBeforeMb: round(gcHeapBefore / 1e6),
    gcHeapAfterMb: round(gcHeapAfter / 1e6),
    idleFdsBefore,
    idleFdsAfter,
    fdGrowth,
    worstEventLoopP99Ms,
    medianEventLoopP99Ms,
    unexpected,
    verdict: reasons.length === 0 ? 'pass' : 'fail',
    reasons,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      rps: { type: 'string', default: '60' },
      out: { type: 'string' },
    },
  });
  const report = await runSoak({ minutes: Number(values.minutes), rps: Number(values.rps) });
  const { windows: _windows, ...summary } = report;
  console.log(JSON.stringify(summary, null, 2));
  if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  process.exit(report.verdict === 'pass' ? 0 : 1);
}
