import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway.ts';
import { gatewayConfig } from './harness/config.ts';
import { chat, chatBody } from './harness/http.ts';

// Regression (issue 13, item 1): a single-word 1 MiB prompt to a tier with tokens_per_minute pinned the
// gateway's event loop for about six minutes (token estimation grew with the square of a word's length):
// /healthz, /metrics and admin all timed out. The upstream answers after a second here, so the gateway
// is idle while the big request waits for it, and /healthz must be answered in that time.

const MiB = 1 << 20;
const UPSTREAM_LATENCY_MS = 1000;

let sim: Simulator;
let gateway: GatewayProcess;

beforeAll(async () => {
  sim = await startSimulator({ latencyMs: UPSTREAM_LATENCY_MS });
  gateway = await startGateway({
    name: 'token-estimation',
    env: { SIM_PROVIDER_KEY: 'sk-sim-token-estimation' },
    config: gatewayConfig({
      simulatorUrl: sim.url,
      tiers: { free: { requests_per_minute: 1000, tokens_per_minute: 100_000_000 } },
      server: { max_body_bytes: 2 * MiB },
      breaker: { timeout: 30 },
    }),
  });
});

afterAll(async () => {
  await gateway?.stop();
  await sim?.close();
});

describe('a huge prompt to a token-limited tier (issue 13 #1)', () => {
  for (const [shape, prompt] of [
    ['one 1 MiB word', 'A'.repeat(MiB)],
    ['1 MiB (UTF-8) of CJK without spaces', '漢字仮名交じり文'.repeat(MiB / 24)],
  ] as const) {
    it(`${shape}: /healthz keeps answering while it is estimated, admitted and proxied`, async () => {
      let pending = true;
      const big = chat(gateway.url, chatBody(prompt), { timeoutMs: 25_000 }).finally(() => {
        pending = false;
      });
      let answeredWhilePending = 0;
      while (pending) {
        const health = await fetch(`${gateway.url}/healthz`, { signal: AbortSignal.timeout(25_000) });
        await health.arrayBuffer();
        expect(health.status).toBe(200);
        if (pending) answeredWhilePending++;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const reply = await big;
      expect(reply.status).toBe(200);
      expect(reply.headers.get('ratelimit-policy')).toContain('"tokens"'); // the token limit applied
      expect(answeredWhilePending).toBeGreaterThan(0);
    });
  }
});
