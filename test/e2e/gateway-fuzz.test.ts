import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway, createLogger, type Gateway, parseConfig } from '../../src/gateway/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { gatewayConfig } from './harness/config.ts';
import { type FuzzRequest, fuzzRuns, requestArb, validRequestArb, violation } from './harness/fuzz.ts';
import { settledHeap } from './harness/memory.ts';
import { SecretScanner, spanTexts } from './harness/secrets.ts';

// The whole gateway stack (body limit, aiContext with configured keys, tier limit, cache, breaker,
// proxy to the simulator) fuzzed in process through app.request(): thousands of bodies and headers,
// half of them with a valid key so they get past authentication into the policies.

const telemetry = useTestTelemetry();
const scanner = new SecretScanner();
const PROVIDER_KEY = scanner.add('provider key', 'sk-provider-fuzz-9e8d7c6b');
const KEY = scanner.add('client key', 'sk-client-fuzz-5a4b3c2d');
let sim: Simulator;
let gateway: Gateway;
let logs = '';
const MODELS = ['gpt-4o-mini', 'gpt-4o', 'claude-3-haiku'];
const anyRequest = fc.oneof(requestArb, validRequestArb(MODELS));

beforeAll(async () => {
  sim = await startSimulator({ apiKey: PROVIDER_KEY });
  const config = parseConfig(
    gatewayConfig({
      simulatorUrl: sim.url,
      keys: [{ key: KEY, tenant: 'fuzz', tier: 'standard' }],
      models: MODELS,
      server: { max_body_bytes: 256 * 1024 },
    }),
    { SIM_PROVIDER_KEY: PROVIDER_KEY },
  );
  gateway = await createGateway(config, {
    telemetry: false,
    localAdminToken: false,
    logger: createLogger({
      write: (line) => {
        logs += `${line}\n`;
      },
    }),
  });
});
afterAll(async () => {
  await gateway?.stop();
  await sim?.close();
});

async function send(request: FuzzRequest, keyed: boolean) {
  const headers = keyed ? { ...request.headers, authorization: `Bearer ${KEY}` } : request.headers;
  const response = await gateway.app.request('/v1/chat/completions', {
    method: 'POST',
    headers,
    body: request.body,
  });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    text: await response.text(),
  };
}

describe('fuzzing the whole gateway app in process', () => {
  // Every answer, 400s and 401s included, opens a request span and is scanned for secrets: minutes on a
  // loaded two-core machine.
  it('answers any body and headers with a 2xx or an OpenAI-style 4xx, never a 5xx', {
    timeout: 120_000,
  }, async () => {
    const statuses = new Map<number, number>();
    let index = 0;
    await fc.assert(
      fc.asyncProperty(anyRequest, async (request) => {
        const reply = await send(request, index++ % 2 === 0);
        statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
        const problem = violation(reply.status, reply.type, reply.text);
        if (problem) throw new Error(problem);
      }),
      { numRuns: fuzzRuns(2000) },
    );
    console.info(`gateway fuzz statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
    expect(statuses.get(200) ?? 0).toBeGreaterThan(50);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(50);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(50);
    // The valid key and the provider key stayed out of every span and log line.
    expect(scanner.scan([...spanTexts(telemetry.spans()), { source: 'gateway logs', text: logs }])).toEqual(
      [],
    );
    telemetry.reset();
  });

  it('keeps the heap flat over thousands of fuzzed requests', { timeout: 120_000 }, async () => {
    const cases = fc.sample(anyRequest, { numRuns: 800, seed: 99 });
    const runAll = async () => {
      for (const [i, request] of cases.entries()) await send(request, i % 2 === 0);
      telemetry.reset();
    };
    await runAll();
    const before = await settledHeap();
    await runAll();
    await runAll();
    const growth = (await settledHeap()) - before;
    expect(growth, `heap grew by ${(growth / 1e6).toFixed(2)} MB over 1600 requests`).toBeLessThan(4_000_000);
  });
});
