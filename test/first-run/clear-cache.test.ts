import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aiCachePolicy } from '../../src/cache/policy.ts';
import { createCallContext } from '../../src/core/context.ts';
import { jsonResult } from '../../src/core/result.ts';
import { loadConfig } from '../../src/gateway/config/load.ts';
import { createGateway, type Gateway } from '../../src/gateway/gateway.ts';
import { createRedisConnection, type RedisConnection } from '../../src/redis/connection.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';

/** Issue 17 item 7: clearing the cache says how many entries each layer removed; an unknown tenant is 404. */
describe('clearing the cache', () => {
  let redis: RedisServer;
  let connection: RedisConnection;
  beforeAll(async () => {
    redis = await startRedis();
    connection = createRedisConnection({ url: redis.url });
    const deadline = Date.now() + 8000;
    while (!connection.available && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
  });
  afterAll(async () => {
    await connection?.close();
    await redis?.stop();
  });

  it('counts the entries removed from memory and from Redis, zero for a tenant with none', async () => {
    const cache = aiCachePolicy({ redis: connection, ttl: 60, namespace: `clear-count-${Date.now()}` });
    const ask = (tenant: string, content: string) =>
      cache.execute(
        createCallContext({
          provider: 'openai',
          model: 'gpt-4o-mini',
          tenant,
          request: { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] },
        }),
        async () => jsonResult({ answer: content }),
      );
    await ask('team-a', 'one');
    await ask('team-a', 'two');
    await ask('team-b', 'three');

    expect(await cache.clear('nobody')).toEqual({ memory: 0, redis: 0 });
    expect(await cache.clear('team-a')).toEqual({ memory: 2, redis: 2 });
    expect(await cache.clear()).toEqual({ memory: 1, redis: 1 });
    expect(await cache.clear()).toEqual({ memory: 0, redis: 0 });
  });

  it('on the gateway: 404 for a tenant no [[api_keys]] entry names, the count for a known one', async () => {
    const config = loadConfig({
      text: '[providers.up]\ntype = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n[[api_keys]]\nkey = "sk-team-a-0001"\ntenant = "team-a"\n',
      env: { ADMIN_TOKEN: 'admin-clear-1' },
    });
    const gateway: Gateway = await createGateway(config, { telemetry: false, localAdminToken: false });
    try {
      const clear = (body: unknown) =>
        gateway.app.request('/admin/cache/clear', {
          method: 'POST',
          headers: { authorization: 'Bearer admin-clear-1', 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const unknown = await clear({ tenant: 'team-z' });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({
        error: {
          message: 'No [[api_keys]] entry has tenant "team-z": nothing to clear',
          type: 'invalid_request_error',
          code: 'unknown_tenant',
        },
      });
      const known = await clear({ tenant: 'team-a' });
      expect(await known.json()).toEqual({
        cleared: 'tenant',
        tenant: 'team-a',
        removed: 0,
        layers: { memory: 0 },
      });
    } finally {
      await gateway.stop();
    }
  });
});
