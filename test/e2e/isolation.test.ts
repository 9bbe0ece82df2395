import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, createLogger, type Gateway, parseConfig } from '../../src/gateway/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { gatewayConfig } from './harness/config.ts';

// Tenant isolation as a property: over a long random sequence of (key, prompt, stream, Cache-Control)
// requests against the whole gateway app (memory + Redis layers), a cache hit only ever answers a
// tenant with what that same tenant asked before. Two keys of one tenant share entries; keys of other
// tenants never do.

const KEYS = [
  { key: 'sk-iso-a-one-000001', tenant: 'tenant-a' },
  { key: 'sk-iso-a-two-000002', tenant: 'tenant-a' },
  { key: 'sk-iso-b-000000003', tenant: 'tenant-b' },
  { key: 'sk-iso-c-000000004', tenant: 'tenant-c' },
] as const;
const PROMPTS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];

let redis: RedisServer;
let sim: Simulator;
let gateway: Gateway;

beforeAll(async () => {
  [redis, sim] = await Promise.all([startRedis(), startSimulator()]);
  const config = parseConfig(
    gatewayConfig({
      simulatorUrl: sim.url,
      keys: KEYS.map(({ key, tenant }) => ({ key, tenant, tier: 'standard' })),
    }),
    { SIM_PROVIDER_KEY: 'sk-provider-iso-0001', REDIS_URL: redis.url },
  );
  gateway = await createGateway(config, {
    telemetry: false,
    localAdminToken: false,
    logger: createLogger({ write: () => {} }),
  });
});
afterAll(async () => {
  await gateway?.stop();
  await Promise.all([sim?.close(), redis?.stop()]);
});

const step = fc.record({
  key: fc.nat({ max: KEYS.length - 1 }),
  prompt: fc.nat({ max: PROMPTS.length - 1 }),
  stream: fc.boolean(),
  control: fc.constantFrom(undefined, undefined, undefined, 'no-cache', 'no-store', 'max-age=600'),
});

describe('no cross-tenant cache hit, ever', () => {
  it('answers every hit with an entry its own tenant stored', async () => {
    // What each tenant has been answered with, per (prompt, stream): the only bodies a hit may return.
    const seen = new Map<string, Set<string>>();
    let hits = 0;
    let sharedHits = 0;
    const askedByKey = new Set<string>();
    for (const { key, prompt, stream, control } of fc.sample(step, { numRuns: 600, seed: 2024 })) {
      const { tenant } = KEYS[key]!;
      // Replies are deterministic per prompt, so what is checked is *when* a hit may happen: only
      // after this tenant (through any of its keys) was answered for this prompt.
      const body = {
        model: 'gpt-4o-mini',
        stream,
        messages: [{ role: 'user', content: `question ${PROMPTS[prompt]}` }],
      };
      const response = await gateway.app.request('/v1/chat/completions', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${KEYS[key]!.key}`,
          ...(control ? { 'cache-control': control } : {}),
        },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      expect(response.status, text).toBe(200);
      const slot = `${tenant}|${prompt}|${stream}`;
      const status = response.headers.get('cache-status') ?? '';
      if (/;\s*hit/.test(status)) {
        hits++;
        expect(seen.get(slot)?.has(text), `hit for ${slot} that ${tenant} was never answered with`).toBe(
          true,
        );
        if (!askedByKey.has(`${key}|${prompt}|${stream}`)) sharedHits++;
      }
      askedByKey.add(`${key}|${prompt}|${stream}`);
      if (control !== 'no-store') seen.set(slot, new Set([...(seen.get(slot) ?? []), text]));
    }
    // The sequence must exercise the cache, or it proves nothing.
    expect(hits).toBeGreaterThan(100);
    // Entries are per tenant, not per key: the second key of tenant A hits what the first stored.
    expect(sharedHits).toBeGreaterThan(0);
  });
});
