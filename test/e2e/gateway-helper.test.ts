import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type GatewayOptions, type GatewayProcess, startGateway as start } from '../helpers/gateway.ts';

// The gateway helper is part of every multi-process test's secret check: prove that it catches a leak.

const LEAKY = fileURLToPath(new URL('./fixtures/leaky-gateway.ts', import.meta.url));
const started: GatewayProcess[] = [];
const startGateway = async (options: GatewayOptions) => {
  const gateway = await start(options);
  started.push(gateway);
  return gateway;
};
afterAll(async () => {
  await Promise.allSettled(started.map((gateway) => gateway.kill()));
});

describe('startGateway().stop() scans what the process emitted for the secrets it was given', () => {
  it('rejects naming the admin token and the configured client key when a process logs them', async () => {
    const gateway = await startGateway({
      cli: LEAKY,
      adminToken: 'admin-token-helper-4242',
      config: '[[api_keys]]\nkey = "sk-helper-client-key-77"\ntenant = "t"\n',
    });
    const failure = await gateway.stop().then(
      () => undefined,
      (error: unknown) => String(error),
    );
    expect(failure).toContain('ADMIN_TOKEN');
    expect(failure).toContain('api_keys[0].key');
    expect(gateway.exited).toBe(true);
  });

  it('passes when scanning is off or nothing leaks', async () => {
    const quiet = await startGateway({
      cli: LEAKY,
      scanSecrets: false,
      adminToken: 'admin-token-helper-4243',
    });
    await expect(quiet.stop()).resolves.toBe(0);
    const clean = await startGateway({ cli: LEAKY, env: { SOME_API_KEY: 'never-logged-value-99' } });
    await expect(clean.stop()).resolves.toBe(0);
  });
});
