import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSse } from '../../src/core/sse.ts';
import { localTokenPath } from '../../src/gateway/admin-token.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway.ts';

/** Variables that would make the gateway use a real provider or an outside config. */
const CLEAN_ENV = {
  OPENAI_API_KEY: undefined,
  ANTHROPIC_API_KEY: undefined,
  OPENAI_BASE_URL: undefined,
  ALCHEMIST_CONFIG: undefined,
  ALCHEMIST_SIMULATOR: undefined,
  REDIS_URL: undefined,
  ADMIN_TOKEN: undefined,
};

const body = (prompt: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }], ...extra });

function post(url: string, payload: string, signal = AbortSignal.timeout(20_000)) {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-lifecycle-user' },
    body: payload,
    signal,
  });
}

describe('embedded default: no config at all', () => {
  let gw: GatewayProcess;
  beforeAll(async () => {
    gw = await startGateway({ name: 'embedded', env: CLEAN_ENV });
  });
  afterAll(() => gw?.stop());

  it('answers from the built-in simulated provider and says so loudly in the log and /readyz', async () => {
    expect(gw.logs()).toContain('SIMULATED PROVIDER');
    expect(gw.logs()).toContain('config="embedded defaults"');
    const ready = (await (await fetch(`${gw.url}/readyz`)).json()) as {
      status: string;
      provider: { simulated: boolean; warning: string };
      cache: { layers: string[] };
      limiter: { mode: string };
    };
    expect(ready.status).toBe('ready');
    expect(ready.provider.simulated).toBe(true);
    expect(ready.provider.warning).toMatch(/^SIMULATED PROVIDER/);
    expect(ready.cache.layers).toEqual(['memory']);
    expect(ready.limiter.mode).toBe('local');
  });

  it('serves a miss then a hit, JSON and streams, for OpenAI and Claude models', async () => {
    for (const model of ['gpt-4o-mini', 'claude-3-5-sonnet']) {
      const first = await post(gw.url, body('new user', { model }));
      expect(first.status).toBe(200);
      expect(first.headers.get('cache-status')).toContain('fwd=miss');
      const answer = await first.json();
      const second = await post(gw.url, body('new user', { model }));
      expect(second.headers.get('cache-status')).toMatch(/; hit; /);
      expect(await second.json()).toEqual(answer);
    }
    const stream = await post(gw.url, body('stream', { stream: true }));
    const events: string[] = [];
    for await (const event of parseSse(stream.body!)) events.push(event.data);
    expect(events.at(-1)).toBe('[DONE]');
  });

  it('writes a private local admin token for the CLI, and removes it on stop', async () => {
    const path = localTokenPath(gw.port);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(gw.logs()).toContain(path);
    // The admin API answers the token from the file, and only it.
    expect((await fetch(`${gw.url}/admin/stats`)).status).toBe(401);
    await gw.stop();
    expect(() => statSync(path)).toThrow();
  });
});

describe('graceful shutdown', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator();
  });
  afterAll(() => sim?.close());

  const config = (simUrl: string, shutdownTimeout = 10) => `
[server]
shutdown_timeout = ${shutdownTimeout}
[providers.sim]
type = "openai"
base_url = "${simUrl}/v1"
[breaker]
timeout = 30
max_retries = 0
`;

  it('drains a slow JSON request and a stream in flight, then exits 0 and refuses new connections', async () => {
    const gw = await startGateway({ name: 'drain', config: config(sim.url), env: CLEAN_ENV });
    try {
      sim.setMode({ latencyMs: 1500, chunkDelayMs: 40 });
      const slow = post(gw.url, body('slow json'));
      const stream = post(gw.url, body('slow stream', { stream: true }));
      await expect.poll(() => sim.stats().inFlight, { timeout: 5000 }).toBe(2);
      const stopped = gw.stop(15_000);

      const reply = await slow;
      expect(reply.status).toBe(200);
      expect(((await reply.json()) as { object: string }).object).toBe('chat.completion');
      const events: string[] = [];
      for await (const event of parseSse((await stream).body!)) events.push(event.data);
      expect(events.at(-1)).toBe('[DONE]');

      expect(await stopped).toBe(0);
      expect(gw.logs()).toContain('draining in-flight requests');
      expect(gw.logs()).toContain('gateway stopped');
      await expect(fetch(`${gw.url}/healthz`)).rejects.toThrow();
    } finally {
      sim.setMode(null);
      await gw.stop();
    }
  });

  it('gives up on a request that outlives [server] shutdown_timeout, and still exits 0', async () => {
    const gw = await startGateway({ name: 'drain-timeout', config: config(sim.url, 1), env: CLEAN_ENV });
    try {
      sim.setMode({ fail: 'hang' });
      const hanging = post(gw.url, body('hang forever')).then(
        (response) => response.status,
        () => 'connection closed',
      );
      await expect.poll(() => sim.stats().inFlight, { timeout: 5000 }).toBeGreaterThan(0);
      const started = Date.now();
      expect(await gw.stop(15_000)).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(gw.logs()).toContain('shutdown timeout');
      expect(await hanging).toBe('connection closed');
    } finally {
      sim.setMode(null);
      await gw.stop();
    }
  });
});
