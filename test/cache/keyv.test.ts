import Keyv from 'keyv';
import { describe, expect, it } from 'vitest';
import { keyvStore } from '../../src/cache/keyv.ts';
import { aiCachePolicy } from '../../src/cache/policy.ts';
import { tenantForKey } from '../../src/core/identity.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { cacheApp, chat } from './app.ts';

const telemetry = useTestTelemetry();

describe('keyvStore', () => {
  it('caches through any Keyv instance, with TTLs and per-tenant clearing', async () => {
    const keyv = new Keyv({ namespace: 'ai' });
    keyv.on('error', () => {});
    const policy = aiCachePolicy({ store: keyvStore(keyv), ttl: 60 });
    const { post, calls } = cacheApp(policy);
    await post(chat('k'), { authorization: 'Bearer sk-1' });
    await post(chat('k'), { authorization: 'Bearer sk-2' });
    const hit = await post(chat('k'), { authorization: 'Bearer sk-1' });
    expect(hit.headers.get('cache-status')).toMatch(/^alchemist-perf; hit; ttl=(59|60)$/);
    expect(
      await telemetry.sum('alchemist.cache.requests', {
        'alchemist.cache.result': 'hit',
        'alchemist.cache.layer': 'keyv',
      }),
    ).toBe(1);
    await policy.clear(tenantForKey('sk-1'));
    expect((await post(chat('k'), { authorization: 'Bearer sk-1' })).headers.get('cache-status')).toMatch(
      /fwd=miss/,
    );
    expect((await post(chat('k'), { authorization: 'Bearer sk-2' })).headers.get('cache-status')).toMatch(
      /hit/,
    );
    expect(calls.count).toBe(3);
    await policy.clear();
    expect((await post(chat('k'), { authorization: 'Bearer sk-2' })).headers.get('cache-status')).toMatch(
      /fwd=miss/,
    );
  });

  it('refuses a tenant clear on a store that cannot list keys, instead of silently keeping entries', async () => {
    const store = keyvStore({
      get: async () => undefined,
      set: async () => true,
      delete: async () => true,
      clear: async () => {},
    });
    await expect(store.clear('ns:abc:')).rejects.toThrow(/iterator/);
  });
});
