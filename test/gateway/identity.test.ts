import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestCredential, tenantForKey } from '../../src/core/identity.ts';
import { jsonResult } from '../../src/core/result.ts';
import { createGateway, createLogger, type Gateway, parseConfig } from '../../src/gateway/index.ts';
import { aiContext } from '../../src/hono/context.ts';
import { aiHandler } from '../../src/hono/handler.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { gatewayConfig } from '../e2e/harness/config.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

// Regression (issue 13 item 11): without [[api_keys]], any credential that was not a Bearer token
// (Basic, `Token x`, a raw key, `api-key`) made the caller `anonymous`, so callers with different
// secrets shared one tenant's cache entries and limits. The tenant is now a hash of whatever
// credential was sent; only a request with no credential at all is `anonymous`.

const telemetry = useTestTelemetry();

describe('requestCredential', () => {
  const from = (headers: Record<string, string>) => requestCredential((name) => headers[name]);

  it('reads every shape a client sends a key in', () => {
    expect(from({ authorization: 'Bearer sk-one' })).toBe('sk-one');
    expect(from({ authorization: '  bearer   sk-one ' })).toBe('sk-one');
    // A raw key in Authorization is the same credential as that key sent as a bearer token.
    expect(from({ authorization: 'sk-one' })).toBe('sk-one');
    expect(from({ authorization: 'Basic dXNlcjpwYXNz' })).toBe('basic dXNlcjpwYXNz');
    expect(from({ authorization: 'BASIC  dXNlcjpwYXNz' })).toBe('basic dXNlcjpwYXNz');
    expect(from({ authorization: 'Token abc' })).toBe('token abc');
    expect(from({ 'x-api-key': ' sk-ant-two ' })).toBe('sk-ant-two');
    expect(from({ 'api-key': 'azure-three' })).toBe('azure-three');
    // Authorization wins over x-api-key, which wins over api-key.
    expect(from({ authorization: 'Bearer a', 'x-api-key': 'b', 'api-key': 'c' })).toBe('a');
    expect(from({ 'x-api-key': 'b', 'api-key': 'c' })).toBe('b');
    expect(from({})).toBeUndefined();
    expect(from({ authorization: '   ', 'x-api-key': '' })).toBeUndefined();
  });
});

describe('gateway tenants without [[api_keys]]', () => {
  let sim: Simulator;
  let gateway: Gateway;
  beforeAll(async () => {
    sim = await startSimulator();
    gateway = await createGateway(
      parseConfig(gatewayConfig({ simulatorUrl: sim.url }), { SIM_PROVIDER_KEY: 'sk-provider-ident-0001' }),
      { telemetry: false, localAdminToken: false, logger: createLogger({ write: () => {} }) },
    );
  });
  afterAll(async () => {
    await gateway?.stop();
    await sim?.close();
  });

  async function ask(headers: Record<string, string>) {
    const response = await gateway.app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'same prompt' }] }),
    });
    await response.text();
    expect(response.status).toBe(200);
    return /;\s*hit/.test(response.headers.get('cache-status') ?? '') ? 'hit' : 'miss';
  }

  const credentials: [string, Record<string, string>, Record<string, string>][] = [
    ['Basic', { authorization: 'Basic YWxpY2U6b25l' }, { authorization: 'Basic Ym9iOnR3bw==' }],
    ['Token', { authorization: 'Token alice-token' }, { authorization: 'Token bob-token' }],
    ['raw key', { authorization: 'raw-key-alice' }, { authorization: 'raw-key-bob' }],
    ['x-api-key', { 'x-api-key': 'xkey-alice' }, { 'x-api-key': 'xkey-bob' }],
    ['api-key', { 'api-key': 'azure-alice' }, { 'api-key': 'azure-bob' }],
  ];

  it.each(credentials)(
    'gives two %s credentials two tenants (no shared cache entry)',
    async (_, alice, bob) => {
      expect(await ask(alice)).toBe('miss');
      expect(await ask(alice)).toBe('hit');
      // Before the fix both were `anonymous`: Bob got Alice's cached answer.
      expect(await ask(bob)).toBe('miss');
      expect(await ask(bob)).toBe('hit');
    },
  );

  it('puts the hashed credential on the span, never the credential', async () => {
    telemetry.reset();
    await ask({ authorization: 'Token span-check-token' });
    const tenants = telemetry.spans().map((span) => span.attributes['alchemist.tenant']);
    expect(tenants).toContain(tenantForKey('token span-check-token'));
    expect(JSON.stringify(telemetry.spans().map((span) => span.attributes))).not.toContain(
      'span-check-token',
    );
  });

  it('keeps a request with no credential at all in the `anonymous` tenant', async () => {
    telemetry.reset();
    await ask({});
    expect(telemetry.spans().map((span) => span.attributes['alchemist.tenant'])).toContain('anonymous');
  });
});

describe('gateway tenants with [[api_keys]]', () => {
  let sim: Simulator;
  let gateway: Gateway;
  const KEY = 'sk-configured-key-0042';
  beforeAll(async () => {
    sim = await startSimulator();
    gateway = await createGateway(
      parseConfig(
        gatewayConfig({ simulatorUrl: sim.url, keys: [{ key: KEY, tenant: 'team', tier: 'standard' }] }),
        { SIM_PROVIDER_KEY: 'sk-provider-ident-0002' },
      ),
      { telemetry: false, localAdminToken: false, logger: createLogger({ write: () => {} }) },
    );
  });
  afterAll(async () => {
    await gateway?.stop();
    await sim?.close();
  });

  it.each([
    [{ authorization: `Bearer ${KEY}` }, 200],
    [{ authorization: KEY }, 200],
    [{ 'x-api-key': KEY }, 200],
    [{ 'api-key': KEY }, 200],
    [{ authorization: `Basic ${Buffer.from(`user:${KEY}`).toString('base64')}` }, 401],
    [{ authorization: `Token ${KEY}` }, 401],
    [{}, 401],
  ] as const)('%j → %i', async (headers, status) => {
    const response = await gateway.app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await response.text();
    expect(response.status).toBe(status);
  });
});

describe('aiContext default identity (Hono skin)', () => {
  it('derives the tenant from any credential shape', async () => {
    const app = new Hono();
    app.use('/v1/*', aiContext());
    app.post(
      '/v1/chat/completions',
      aiHandler((ctx) => Promise.resolve(jsonResult({ tenant: ctx.tenant }))),
    );
    const tenantOf = async (headers: Record<string, string>) => {
      const response = await app.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'm', messages: [] }),
      });
      return ((await response.json()) as { tenant: string }).tenant;
    };
    expect(await tenantOf({ authorization: 'Basic YTpi' })).toBe(tenantForKey('basic YTpi'));
    expect(await tenantOf({ 'api-key': 'azure-key-1' })).toBe(tenantForKey('azure-key-1'));
    expect(await tenantOf({})).toBe('anonymous');
  });
});
