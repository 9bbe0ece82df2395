import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway.ts';
import { gatewayConfig } from './harness/config.ts';
import { expectNoSecrets, stopAndCollect } from './harness/emitted.ts';
import { type ChatReply, chat, chatBody, errorCode, waitUntil } from './harness/http.ts';
import { mapConcurrent } from './harness/load.ts';
import { parsePrometheus, sumOf } from './harness/prometheus.ts';
import { type ScannedText, SecretScanner } from './harness/secrets.ts';

// The simulated provider misbehaves at run time (5xx and 429 storms, hangs, streams cut midway, a slow
// first chunk) while one gateway serves. Each scenario uses its own model on its own provider entry, so
// breakers of one scenario do not leak into the next. Upstream attempts are counted by the simulator.

const scanner = new SecretScanner();
const PROVIDER_KEY = scanner.add('provider key', 'sk-provider-chaos-3e4f5a6b');
const KEY = scanner.add('client key', 'sk-client-chaos-7d8e9f0a');
const PROMPT = scanner.add('prompt', 'CANARY-prompt-chaos-2290');
const THRESHOLD = 3;
const RETRIES = 1;
const SCENARIOS = ['m-5xx', 'm-429', 'm-hang', 'm-cut', 'm-slow'] as const;

let sim: Simulator;
let gateway: GatewayProcess;
const emitted: ScannedText[] = [];

beforeAll(async () => {
  sim = await startSimulator({ apiKey: PROVIDER_KEY, latencyMs: 2, chunkDelayMs: 5 });
  gateway = await startGateway({
    name: 'provider-chaos',
    env: { SIM_PROVIDER_KEY: PROVIDER_KEY },
    config: gatewayConfig({
      simulatorUrl: sim.url,
      keys: [{ key: KEY, tenant: 'chaos', tier: 'standard' }],
      extraProviders: SCENARIOS.map((model) => `p-${model}`),
      models: ['gpt-4o-mini', ...SCENARIOS],
      modelOptions: Object.fromEntries(SCENARIOS.map((model) => [model, { provider: `p-${model}` }])),
      breaker: { failure_threshold: THRESHOLD, half_open_after: 1, timeout: 1, max_retries: RETRIES },
    }),
  });
});

afterEach(() => {
  sim.setMode(null);
});

afterAll(async () => {
  await stopAndCollect([gateway], emitted);
  await sim?.close();
  expectNoSecrets(scanner, emitted);
});

const ask = (model: string, text: string, extra: Record<string, unknown> = {}) =>
  chat(gateway.url, chatBody(`${PROMPT} ${text}`, { model, ...extra }), { key: KEY, timeoutMs: 20_000 });

/** A clear error: OpenAI-style JSON with a code, and Retry-After on 429/503. */
function expectClearError(reply: ChatReply) {
  expect(reply.status).toBeGreaterThanOrEqual(400);
  expect(errorCode(reply), reply.text).toBeTypeOf('string');
  if (reply.status === 429 || reply.status === 503) {
    expect(Number(reply.headers.get('retry-after')), `${reply.status} without Retry-After`).toBeGreaterThan(
      0,
    );
  }
}

const upstreamCalls = (model: string) => sim.stats().byModel[model] ?? 0;

describe('provider chaos', () => {
  it('5xx storm: the breaker opens after the threshold, fails fast with 503, then recovers', async () => {
    sim.setMode({ fail: '500', model: 'm-5xx' });
    const replies = await mapConcurrent([...Array(30).keys()], 3, (i) => ask('m-5xx', `storm ${i}`));
    for (const reply of replies) {
      expect([502, 503]).toContain(reply.status);
      expectClearError(reply);
    }
    expect(replies.filter((reply) => errorCode(reply) === 'circuit_open').length).toBeGreaterThan(20);
    // Without a breaker: 30 × (1 + retries) = 60 attempts. With it: the threshold, plus what the three
    // concurrent callers had in flight when it opened, plus a half-open probe or two.
    const attempts = upstreamCalls('m-5xx');
    expect(attempts).toBeLessThanOrEqual(THRESHOLD + 3 * (1 + RETRIES) + 2);

    sim.setMode(null);
    const recovered = await waitUntil(
      async () => (await ask('m-5xx', 'after the storm')).status === 200,
      'the breaker to close after half_open_after',
      15_000,
    );
    expect(recovered).toBe(true);
    const after = await mapConcurrent([...Array(5).keys()], 5, (i) => ask('m-5xx', `healthy ${i}`));
    expect(after.map((reply) => reply.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('429 storm with Retry-After: clients get 429/503 with Retry-After, no retry storm', async () => {
    sim.setMode({ fail: '429', retryAfter: 2, model: 'm-429' });
    const started = performance.now();
    const replies = await mapConcurrent([...Array(20).keys()], 2, (i) => ask('m-429', `limited ${i}`));
    const elapsedS = (performance.now() - started) / 1000;
    for (const reply of replies) {
      expect([429, 503]).toContain(reply.status);
      expectClearError(reply);
    }
    // Honouring Retry-After: 2 s means at most ~one attempt per caller per 2 s once retries happen.
    const attempts = upstreamCalls('m-429');
    expect(attempts).toBeLessThanOrEqual(THRESHOLD + 2 * (1 + RETRIES) + Math.ceil(elapsedS) + 2);
  });

  it('hanging provider: 504 after the attempt timeout, bounded attempts, breaker opens', async () => {
    sim.setMode({ fail: 'hang', model: 'm-hang' });
    const replies = await mapConcurrent([...Array(8).keys()], 2, (i) => ask('m-hang', `hang ${i}`));
    for (const reply of replies) {
      expect([504, 503]).toContain(reply.status);
      expectClearError(reply);
      // timeout 1 s per attempt, one retry with backoff: never anywhere near the simulator's "forever".
      expect(reply.ms).toBeLessThan(6000);
    }
    expect(replies.some((reply) => reply.status === 504 && /^timeout_/.test(errorCode(reply) ?? ''))).toBe(
      true,
    );
    expect(upstreamCalls('m-hang')).toBeLessThanOrEqual(THRESHOLD + 2 * (1 + RETRIES) + 2);
  });

  it('stream cut midway: the client sees an incomplete stream, and it is never cached', async () => {
    sim.setMode({ fail: 'cut-stream', model: 'm-cut' });
    const body = { stream: true };
    const cut = await ask('m-cut', 'a stream that will be cut', body);
    expect(cut.text).not.toContain('data: [DONE]');
    if (cut.status === 200)
      expect(cut.text).toMatch(/"error"/); // error event after the partial chunks
    else expectClearError(cut);

    sim.setMode(null);
    const fresh = await ask('m-cut', 'a stream that will be cut', body);
    expect(fresh.status).toBe(200);
    expect(fresh.text).toContain('data: [DONE]');
    expect(fresh.headers.get('cache-status') ?? '').not.toMatch(/;\s*hit/);
    const replay = await ask('m-cut', 'a stream that will be cut', body);
    expect(replay.headers.get('cache-status') ?? '').toMatch(/;\s*hit/);
    expect(replay.text).toBe(fresh.text);
  });

  it('slow first chunk: a first-chunk timeout, a clear 504, nothing cached', async () => {
    sim.setMode({ fail: 'slow-first-chunk', firstChunkDelayMs: 8000, model: 'm-slow' });
    const slow = await ask('m-slow', 'slow first chunk', { stream: true });
    expect(slow.ms).toBeLessThan(7000);
    expect(slow.text).not.toContain('data: [DONE]');
    if (slow.status !== 200) {
      expect(slow.status).toBe(504);
      expectClearError(slow);
    }
    sim.setMode(null);
    const fresh = await ask('m-slow', 'slow first chunk', { stream: true });
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('cache-status') ?? '').not.toMatch(/;\s*hit/);
  });

  it('counts every retry in alchemist.retry.attempts and keeps the total upstream attempts bounded', async () => {
    const samples = parsePrometheus(await gateway.metrics());
    const retries = sumOf(samples, 'alchemist_retry_attempts_total');
    const total = sim.stats().requests;
    console.info(
      `provider chaos: ${total} upstream attempts in all (${JSON.stringify(sim.stats().byModel)}), ${retries} retries counted`,
    );
    expect(retries).toBeGreaterThan(0);
    expect(total).toBeLessThan(150);
  });
});
