import { readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway.ts';
import { gatewayConfig } from './harness/config.ts';
import { logsAndExports } from './harness/emitted.ts';
import { chat, chatBody, waitUntil } from './harness/http.ts';
import { type OtlpSink, startOtlpSink } from './harness/otlp-sink.ts';
import { type ScannedText, SecretScanner } from './harness/secrets.ts';

// Everything a gateway process emits (stdout/stderr logs, spans and metrics exported over OTLP, the
// Prometheus text) is scanned for the client keys, the provider key, the admin token and the prompt.
// A second gateway with content capture on is the positive control: there the prompt must show up.

const scanner = new SecretScanner();
const PROVIDER_KEY = scanner.add('provider key', 'sk-provider-secret-4c5d6e7f80');
const KEY_A = scanner.add('client key A', 'sk-client-secret-a-1b2c3d4e5f');
const KEY_B = scanner.add('client key B', 'sk-client-secret-b-9f8e7d6c5b');
const UNKNOWN = scanner.add('unknown key', 'sk-unknown-secret-00aa11bb22');
const ADMIN = scanner.add('admin token', 'admin-secret-token-55cc66dd77');
const WRONG_ADMIN = scanner.add('wrong admin token', 'admin-wrong-token-88ee99ff00');
const PROMPT = scanner.add('prompt', 'CANARY-prompt-secrets-7731-indigo');

let sim: Simulator;
let sink: OtlpSink;

beforeAll(async () => {
  [sim, sink] = await Promise.all([
    startSimulator({ apiKey: PROVIDER_KEY, chunkDelayMs: 1 }),
    startOtlpSink(),
  ]);
});
// Gateways each test starts, stopped here too in case an assertion threw before the test stopped them.
const started: GatewayProcess[] = [];
afterAll(async () => {
  await Promise.allSettled(started.map((gateway) => gateway.stop()));
  await Promise.all([sim?.close(), sink?.close()]);
});

async function gatewayWith(env: Record<string, string> = {}, admin: 'token' | 'generated' = 'token') {
  const gateway = await startGateway({
    name: 'secrets',
    ...(admin === 'token' ? { adminToken: ADMIN } : {}),
    otlpEndpoint: sink.url,
    env: { SIM_PROVIDER_KEY: PROVIDER_KEY, ...env },
    config: gatewayConfig({
      simulatorUrl: sim.url,
      tiers: { standard: { requests_per_minute: 100_000 }, tiny: { requests_per_minute: 1 } },
      keys: [
        { key: KEY_A, tenant: 'tenant-a', tier: 'standard' },
        { key: KEY_B, tenant: 'tenant-b', tier: 'tiny' },
      ],
      models: ['gpt-4o-mini', 'failing-model'],
    }),
  });
  started.push(gateway);
  return gateway;
}

/** Traffic that touches every path: hits, misses, streams, 400/401/429/502, admin with good and bad tokens. */
async function traffic(gateway: GatewayProcess): Promise<number[]> {
  const statuses: number[] = [];
  const ask = async (body: unknown, options: Parameters<typeof chat>[2]) => {
    statuses.push((await chat(gateway.url, body, options)).status);
  };
  const prompt = chatBody(`${PROMPT} tell me a secret`);
  await ask(prompt, { key: KEY_A });
  await ask(prompt, { key: KEY_A });
  await ask({ ...prompt, stream: true }, { key: KEY_A });
  await ask(prompt, { headers: { 'x-api-key': KEY_A } });
  await ask(prompt, { key: KEY_B });
  await ask(prompt, { key: KEY_B }); // tiny tier: 429
  await ask(prompt, { key: UNKNOWN });
  await ask(prompt, { headers: { 'api-key': UNKNOWN } });
  await ask(`{"model":"gpt-4o-mini","messages":[{"content":"${PROMPT}"`, { key: KEY_A });
  sim.setMode({ fail: '500', model: 'failing-model' });
  await ask(chatBody(`${PROMPT} failing`, { model: 'failing-model' }), { key: KEY_A });
  sim.setMode(null);
  for (const token of [ADMIN, WRONG_ADMIN]) {
    for (const [method, path] of [
      ['GET', '/admin/stats'],
      ['POST', '/admin/cache/clear'],
    ] as const) {
      const response = await fetch(`${gateway.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: method === 'POST' ? JSON.stringify({ tenant: 'tenant-a' }) : undefined,
      });
      statuses.push(response.status);
      await response.text();
    }
  }
  return statuses;
}

async function emittedBy(gateway: GatewayProcess): Promise<ScannedText[]> {
  const metrics = { source: `${gateway.name} /metrics`, text: await gateway.metrics() };
  await gateway.stop(); // flushes spans and metrics to the sink
  return [metrics, ...logsAndExports([gateway], sink)];
}

describe('no secret reaches a log, a span, a metric or /metrics', () => {
  it('with content capture off: no key, provider key, admin token or prompt anywhere', async () => {
    const gateway = await gatewayWith();
    const statuses = await traffic(gateway);
    for (const status of [200, 400, 401, 429, 502]) expect(statuses).toContain(status);
    const texts = await emittedBy(gateway);
    // The sink did receive the spans (so the scan covered them).
    expect(sink.spanNames().some((name) => name.startsWith('chat '))).toBe(true);
    expect(sink.exports().some((item) => item.path.startsWith('/v1/metrics'))).toBe(true);
    expect(scanner.scan(texts)).toEqual([]);
  });

  it('with content capture on: the prompt is recorded (positive control), keys still are not', async () => {
    const exportsBefore = sink.exports().length;
    const gateway = await gatewayWith({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' });
    await traffic(gateway);
    const texts = await emittedBy(gateway);
    await waitUntil(() => sink.exports().length > exportsBefore, 'OTLP exports from the capturing gateway');
    const fresh = texts.filter(
      (text) => !text.source.startsWith('OTLP') || Number(text.source.split('#')[1]) >= exportsBefore,
    );
    const findings = scanner.scan(fresh);
    expect(findings.map((finding) => finding.secret)).toContain('prompt');
    expect(findings.filter((finding) => finding.secret !== 'prompt')).toEqual([]);
  });

  it('keeps a generated local admin token private: a 0600 file in a 0700 directory, in no log or metric', async () => {
    const gateway = await gatewayWith({}, 'generated');
    const path = /local token in ([^\s")]+)/.exec(gateway.logs())?.[1];
    expect(path, gateway.logs()).toBeDefined();
    expect(statSync(path!).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(path!)).mode & 0o777).toBe(0o700);
    const token = readFileSync(path!, 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(24);
    const stats = await fetch(`${gateway.url}/admin/stats`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(stats.status).toBe(200);
    await stats.text();
    const local = new SecretScanner();
    local.add('generated admin token', token);
    const texts = await emittedBy(gateway);
    expect(local.scan(texts)).toEqual([]);
  });
});
