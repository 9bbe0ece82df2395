import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSse } from '../../src/core/sse.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway.ts';

// End-to-end over real HTTP: a gateway process (node src/cli/main.ts serve) in front of a simulated
// provider that only accepts the provider key, so every 200 proves the gateway sent its own key.

const CLIENT_KEY = 'sk-client-http-7c1d9e2f';
const LIMITED_KEY = 'sk-client-limited-4a5b6c7d';
const PROVIDER_KEY = 'sk-provider-http-3e8f1a2b';
const ADMIN_TOKEN = 'admin-http-9d8c7b6a5f';

let sim: Simulator;
let gw: GatewayProcess;

const config = (simUrl: string) => `
[server]
max_body_bytes = 4096
[cache]
default_ttl = 600
[rate_limit]
default_tier = "standard"
[tiers.standard]
requests_per_minute = 100000
[tiers.tiny]
requests_per_minute = 2
[[api_keys]]
key = "${CLIENT_KEY}"
tenant = "team-a"
tier = "standard"
[[api_keys]]
key = "${LIMITED_KEY}"
tenant = "team-b"
tier = "tiny"
[providers.sim]
type = "openai"
base_url = "${simUrl}/v1"
api_key_env = "SIM_KEY"
[providers.claude]
type = "anthropic"
base_url = "${simUrl}"
api_key_env = "SIM_KEY"
[providers.flaky]
type = "openai"
base_url = "${simUrl}/v1"
api_key_env = "SIM_KEY"
[providers.slow]
type = "openai"
base_url = "${simUrl}/v1"
api_key_env = "SIM_KEY"
[ai_models.gpt-4o-mini]
provider = "sim"
[ai_models.claude-3-haiku]
provider = "claude"
[ai_models.flaky-model]
provider = "flaky"
[ai_models.slow-model]
provider = "slow"
[providers.garbled]
type = "openai"
base_url = "${simUrl}/v1"
api_key_env = "SIM_KEY"
[ai_models.garbled-model]
provider = "garbled"
[breaker]
failure_threshold = 2
half_open_after = 60
timeout = 1
max_retries = 0
`;

beforeAll(async () => {
  sim = await startSimulator({ apiKey: PROVIDER_KEY });
  gw = await startGateway({
    name: 'gateway-http',
    config: config(sim.url),
    adminToken: ADMIN_TOKEN,
    env: { SIM_KEY: PROVIDER_KEY },
  });
});

afterAll(async () => {
  await gw?.stop();
  await sim?.close();
});

afterEach(() => {
  sim.setMode(null);
});

function post(body: unknown, headers: Record<string, string> = {}, key: string | null = CLIENT_KEY) {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
}

const chat = (prompt: string, extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: prompt }],
  ...extra,
});

async function sseData(response: Response): Promise<string[]> {
  const out: string[] = [];
  for await (const event of parseSse(response.body!)) out.push(event.data);
  return out;
}

type ErrorBody = { error: { message: string; type: string; code: string } };

describe('gateway over HTTP: OpenAI-compatible provider', () => {
  it('answers JSON with the provider key, then serves the same answer from cache', async () => {
    const before = sim.stats().byApi.openai;
    const first = await post(chat('json please'));
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-status')).toBe('alchemist-perf; fwd=miss; stored');
    const body = (await first.json()) as {
      object: string;
      choices: { message: { content: string } }[];
      usage: unknown;
    };
    expect(body.object).toBe('chat.completion');
    expect(body.usage).toMatchObject({
      prompt_tokens: expect.any(Number),
      completion_tokens: expect.any(Number),
    });

    const second = await post(chat('json please'));
    expect(second.headers.get('cache-status')).toMatch(/^alchemist-perf; hit; ttl=\d+$/);
    expect(await second.json()).toEqual(body);
    expect(sim.stats().byApi.openai - before).toBe(1);
    expect(sim.stats().unauthorized).toBe(0);
    // The provider's account headers (the simulator sends x-ratelimit-*) are ours, never the client's.
    for (const response of [first, second]) {
      expect([...response.headers.keys()].filter((name) => name.startsWith('x-ratelimit-'))).toEqual([]);
    }
  });

  it('streams SSE ending with [DONE] and a usage chunk, and replays it from cache', async () => {
    // The usage chunk comes to clients that ask for it (stream_options.include_usage), as OpenAI's does.
    const asked = { stream: true, stream_options: { include_usage: true } };
    const first = await post(chat('stream please', asked));
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toContain('text/event-stream');
    const events = await sseData(first);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((data) => JSON.parse(data));
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.at(-1).usage).toMatchObject({ completion_tokens: expect.any(Number) });

    const replay = await post(chat('stream please', asked));
    expect(replay.headers.get('cache-status')).toMatch(/hit/);
    expect(await sseData(replay)).toEqual(events);
  });
});

describe('gateway over HTTP: Anthropic provider mapping', () => {
  it('translates to the Messages API and back (JSON)', async () => {
    const before = sim.stats().byApi.anthropic;
    const response = await post({
      model: 'claude-3-haiku',
      max_tokens: 6,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello claude' },
      ],
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      object: 'chat.completion',
      model: 'claude-3-haiku',
      choices: [{ index: 0, message: { role: 'assistant' }, finish_reason: 'length' }],
      usage: { completion_tokens: 6 },
    });
    expect(sim.stats().byApi.anthropic - before).toBe(1);
  });

  it('translates the Messages event stream to OpenAI chunks ending with [DONE]', async () => {
    const response = await post({
      model: 'claude-3-haiku',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'stream claude' }],
    });
    expect(response.status).toBe(200);
    const events = await sseData(response);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((data) => JSON.parse(data));
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(text.length).toBeGreaterThan(10);
    expect(chunks.at(-2).choices[0].finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: expect.any(Number) } });
  });
});

describe('gateway over HTTP: error bodies and headers', () => {
  it('401 for an unknown or missing key, with an OpenAI error body', async () => {
    for (const key of ['sk-not-a-configured-key', null]) {
      const response = await post(chat('who am i'), {}, key);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toContain('Bearer');
      expect(((await response.json()) as ErrorBody).error).toMatchObject({
        type: 'authentication_error',
        code: 'invalid_api_key',
      });
    }
  });

  it('400 for bad JSON, a missing model and missing messages', async () => {
    const cases: [unknown, string][] = [
      ['{nope', 'invalid_json'],
      [{ messages: [{ role: 'user', content: 'x' }] }, 'missing_model'],
      [{ model: 'gpt-4o-mini' }, 'invalid_messages'],
    ];
    for (const [body, code] of cases) {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as ErrorBody).error).toMatchObject({
        type: 'invalid_request_error',
        code,
      });
    }
  });

  it('413 for a body over [server] max_body_bytes', async () => {
    const response = await post(chat('x'.repeat(8000)));
    expect(response.status).toBe(413);
    expect(((await response.json()) as ErrorBody).error.code).toBe('payload_too_large');
  });

  it('429 with Retry-After and RateLimit headers once a tier is over its limit', async () => {
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 4; i++) {
      const response = await post(chat(`limited ${i}`), {}, LIMITED_KEY);
      statuses.push(response.status);
      if (response.status === 429) limited = response;
      else await response.arrayBuffer();
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(limited).toBeDefined();
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited!.headers.get('ratelimit-policy')).toContain('q=2');
    expect(limited!.headers.get('ratelimit')).toBeTruthy();
    expect(((await limited!.json()) as ErrorBody).error.type).toBe('rate_limit_error');
  });

  it('502 for a provider 5xx, then 503 with Retry-After once the breaker opens', async () => {
    sim.setMode({ fail: '500', model: 'flaky-model' });
    const first = await post({ ...chat('flaky'), model: 'flaky-model' });
    expect(first.status).toBe(502);
    expect(((await first.json()) as ErrorBody).error.type).toBe('upstream_error');
    await (await post({ ...chat('flaky 2'), model: 'flaky-model' })).arrayBuffer();
    const upstreamCalls = sim.stats().byModel['flaky-model'];
    const open = await post({ ...chat('flaky 3'), model: 'flaky-model' });
    expect(open.status).toBe(503);
    expect(Number(open.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await open.json()) as ErrorBody).error).toMatchObject({
      type: 'service_unavailable',
      code: 'circuit_open',
    });
    // Failing fast: the open breaker did not call the provider.
    expect(sim.stats().byModel['flaky-model']).toBe(upstreamCalls);
    // A provider error is never cached.
    sim.setMode(null);
    expect((await post({ ...chat('flaky'), model: 'flaky-model' })).headers.get('cache-status')).not.toMatch(
      /hit/,
    );
  });

  it('502 for a provider reply that is not JSON, or a stream cut midway, and neither is cached', async () => {
    sim.setMode({ fail: 'malformed', model: 'garbled-model' });
    const malformed = await post({ ...chat('garbled'), model: 'garbled-model' });
    expect(malformed.status).toBe(502);
    expect(((await malformed.json()) as ErrorBody).error).toMatchObject({
      type: 'upstream_error',
      code: 'bad_upstream_response',
    });
    sim.setMode({ fail: 'cut-stream', model: 'garbled-model' });
    const cut = await post({ ...chat('garbled stream', { stream: true }), model: 'garbled-model' });
    const events = cut.status === 200 ? await sseData(cut) : [await cut.text()];
    expect(events).not.toContain('[DONE]');
    sim.setMode(null);
    const again = await post({ ...chat('garbled'), model: 'garbled-model' });
    expect(again.status).toBe(200);
    expect(again.headers.get('cache-status')).toContain('fwd=miss');
    await again.arrayBuffer();
  });

  it('504 when the provider hangs past [breaker] timeout', async () => {
    sim.setMode({ fail: 'hang', model: 'slow-model' });
    const response = await post({ ...chat('hang'), model: 'slow-model' });
    expect(response.status).toBe(504);
    expect(((await response.json()) as ErrorBody).error.type).toBe('timeout_error');
  });
});

describe('gateway over HTTP: health, admin, metrics', () => {
  it('/healthz and /readyz report state', async () => {
    expect(await (await fetch(`${gw.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${gw.url}/readyz`);
    const body = (await ready.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      store: { redis: 'disabled' },
      limiter: { mode: 'local', degraded: false },
      provider: { simulated: false },
    });
    expect(['ready', 'degraded']).toContain(body.status);
  });

  it('guards /admin with the admin token', async () => {
    expect((await fetch(`${gw.url}/admin/stats`)).status).toBe(401);
    const wrong = await fetch(`${gw.url}/admin/stats`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as ErrorBody).error.code).toBe('invalid_admin_token');
    // The client key is not an admin token.
    expect(
      (await fetch(`${gw.url}/admin/stats`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } })).status,
    ).toBe(401);
  });

  it('/admin/stats summarises requests, hits, latency, rejections and breakers from the instruments', async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const stats = (await (await fetch(`${gw.url}/admin/stats`, { headers: admin })).json()) as {
      requests: { total: number };
      cache: { hits: number; hitRate: number };
      latency: { p50Ms: number; p95Ms: number; p99Ms: number };
      rateLimit: { rejectionsByTier: Record<string, Record<string, number>> };
      breakers: Record<string, string>;
      cost: { totalUsd: number };
    };
    expect(stats.requests.total).toBeGreaterThan(5);
    expect(stats.cache.hits).toBeGreaterThanOrEqual(2);
    expect(stats.cache.hitRate).toBeGreaterThan(0);
    expect(stats.latency.p50Ms).toBeGreaterThan(0);
    expect(stats.latency.p99Ms).toBeGreaterThanOrEqual(stats.latency.p95Ms);
    expect(stats.rateLimit.rejectionsByTier.tiny?.tier).toBeGreaterThanOrEqual(1);
    expect(stats.breakers.flaky).toBe('open');
    expect(stats.cost.totalUsd).toBeGreaterThan(0);
  });

  it('clears the cache of one tenant, then all', async () => {
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    await (await post(chat('to be cleared'))).arrayBuffer();
    expect((await post(chat('to be cleared'))).headers.get('cache-status')).toMatch(/hit/);
    const other = await fetch(`${gw.url}/admin/cache/clear`, {
      method: 'POST',
      headers: admin,
      body: '{"tenant":"team-b"}',
    });
    const otherCleared = (await other.json()) as { removed: number; layers: { memory: number } };
    expect(otherCleared).toEqual({
      cleared: 'tenant',
      tenant: 'team-b',
      removed: otherCleared.layers.memory,
      layers: { memory: otherCleared.layers.memory },
    });
    expect((await post(chat('to be cleared'))).headers.get('cache-status')).toMatch(/hit/);
    const mine = await fetch(`${gw.url}/admin/cache/clear`, {
      method: 'POST',
      headers: admin,
      body: '{"tenant":"team-a"}',
    });
    expect(mine.status).toBe(200);
    expect(((await mine.json()) as { removed: number }).removed).toBeGreaterThanOrEqual(1);
    expect((await post(chat('to be cleared'))).headers.get('cache-status')).toMatch(/miss/);
    const all = await fetch(`${gw.url}/admin/cache/clear`, { method: 'POST', headers: admin });
    expect(await all.json()).toEqual({ cleared: 'all', removed: 1, layers: { memory: 1 } });
    expect((await post(chat('to be cleared'))).headers.get('cache-status')).toMatch(/miss/);
  });

  it('/admin/export has the summary and the effective config without secrets', async () => {
    const response = await fetch(`${gw.url}/admin/export`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const text = await response.text();
    const exported = JSON.parse(text) as {
      stats: { requests: { total: number } };
      config: { api_keys: unknown[] };
    };
    expect(exported.stats.requests.total).toBeGreaterThan(0);
    expect(exported.config.api_keys).toEqual([
      { tenant: 'team-a', tier: 'standard' },
      { tenant: 'team-b', tier: 'tiny' },
    ]);
    for (const secret of [CLIENT_KEY, LIMITED_KEY, PROVIDER_KEY, ADMIN_TOKEN])
      expect(text).not.toContain(secret);
  });

  it('exposes GenAI and alchemist series on the Prometheus endpoint, with no secret in them', async () => {
    const text = await gw.metrics();
    expect(text).toMatch(/^gen_ai_client_operation_duration_bucket\{/m);
    expect(text).toMatch(/^gen_ai_client_token_usage_bucket\{/m);
    expect(text).toMatch(/^alchemist_request_duration_bucket\{/m);
    expect(text).toMatch(/^alchemist_cache_requests_total\{.*alchemist_cache_result="hit"/m);
    for (const secret of [CLIENT_KEY, LIMITED_KEY, PROVIDER_KEY, ADMIN_TOKEN])
      expect(text).not.toContain(secret);
  });

  it('never writes a key or the admin token to its log', () => {
    const logs = gw.logs();
    expect(logs).toContain('gateway listening');
    for (const secret of [CLIENT_KEY, LIMITED_KEY, PROVIDER_KEY, ADMIN_TOKEN])
      expect(logs).not.toContain(secret);
  });
});
