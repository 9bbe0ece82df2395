import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, createLogger, type Gateway, parseConfig } from '../../src/gateway/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { gatewayConfig } from '../e2e/harness/config.ts';

// Issue 13 item 3 through the whole gateway (real simulator, real pools and timeouts): one tenant's
// hanging or rate-limited model must not answer 503 to another tenant's requests for other models.

const TENANT_A = 'sk-scope-tenant-a-0001';
const TENANT_B = 'sk-scope-tenant-b-0002';

let sim: Simulator;
let gateway: Gateway;

beforeAll(async () => {
  sim = await startSimulator({ latencyMs: 1, chunkDelayMs: 1 });
  const config = parseConfig(
    gatewayConfig({
      simulatorUrl: sim.url,
      keys: [
        { key: TENANT_A, tenant: 'tenant-a', tier: 'standard' },
        { key: TENANT_B, tenant: 'tenant-b', tier: 'standard' },
      ],
      models: ['gpt-4o-mini', 'gpt-4o', 'limited-model'],
      breaker: { failure_threshold: 5, half_open_after: 30, timeout: 1, max_retries: 0 },
    }),
    { SIM_PROVIDER_KEY: 'sk-provider-scope-0003' },
  );
  gateway = await createGateway(config, {
    telemetry: false,
    localAdminToken: false,
    logger: createLogger({ write: () => {} }),
  });
});
afterEach(() => sim.setMode(null));
afterAll(async () => {
  await gateway?.stop();
  await sim?.close();
});

async function ask(key: string, model: string, prompt: string) {
  const response = await gateway.app.request('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }] }),
  });
  const body = (await response.json()) as { error?: { code?: string } };
  return { status: response.status, code: body.error?.code, retryAfter: response.headers.get('retry-after') };
}

const states = () =>
  Object.fromEntries(gateway.policies.resilience.state().breakers.map((b) => [b.name, b.state]));

describe('breaker scope through the gateway', () => {
  it("tenant B's hanging model never makes tenant A's other models answer 503", async () => {
    sim.setMode({ fail: 'hang', model: 'gpt-4o' });
    const hung = await Promise.all(Array.from({ length: 5 }, (_, i) => ask(TENANT_B, 'gpt-4o', `hang ${i}`)));
    expect(hung.map((reply) => reply.status)).toEqual([504, 504, 504, 504, 504]);
    expect(states()).toMatchObject({ sim: 'closed', 'sim/gpt-4o': 'open' });

    expect(await ask(TENANT_A, 'gpt-4o-mini', 'still fine')).toMatchObject({ status: 200 });
    expect(await ask(TENANT_A, 'some-unlisted-model', 'also fine')).toMatchObject({ status: 200 });
    // The hanging model itself fails fast, for everyone, with its own breaker's name.
    expect(await ask(TENANT_A, 'gpt-4o', 'blocked')).toMatchObject({ status: 503, code: 'circuit_open' });
  });

  it("a provider 429 reaches the client as a 429 with the provider's Retry-After, and opens nothing", async () => {
    sim.setMode({ fail: '429', retryAfter: 2, model: 'limited-model' });
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await ask(TENANT_B, 'limited-model', `limited ${i}`));
    expect(replies[0]).toEqual({ status: 429, code: 'upstream_429', retryAfter: '2' });
    // The next ones wait out the pause in the outbound queue and get the provider's 429 again, or,
    // once 3 came in a row, the outbound limiter's own 429 with the rest of the pause (the storm path,
    // pinned with a fake clock in test/ratelimit). Never a 503, never a breaker.
    for (const reply of replies) {
      expect(reply.status).toBe(429);
      expect(['upstream_429', 'rate_limited_model']).toContain(reply.code);
      expect(Number(reply.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(reply.retryAfter)).toBeLessThanOrEqual(2);
    }
    expect(states()).toMatchObject({ sim: 'closed', 'sim/limited-model': 'closed' });
    expect(await ask(TENANT_A, 'gpt-4o-mini', 'unaffected')).toMatchObject({ status: 200 });
  });
});
