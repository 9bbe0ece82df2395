import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/cache/memory.ts';
import type { CacheEntry } from '../../src/cache/types.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { manualClock } from './app.ts';

const telemetry = useTestTelemetry();

const entry = (body: unknown): CacheEntry => ({
  kind: 'json',
  status: 200,
  body,
  model: 'm',
  storedAt: 0,
  expiresAt: 1,
  staleUntil: 1,
});

describe('memoryStore', () => {
  it('expires entries on its clock', async () => {
    const clock = manualClock();
    const store = memoryStore({ clock });
    await store.set('k', entry('v'), 1000);
    clock.advance(999);
    expect((await store.get('k'))?.body).toBe('v');
    clock.advance(1);
    expect(await store.get('k')).toBeUndefined();
    expect(store.memoryStats?.()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('evicts the least recently used entry beyond maxEntries', async () => {
    const store = memoryStore({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await store.set(k, entry(k), 60_000);
    await store.get('a'); // a is now more recent than b
    await store.set('d', entry('d'), 60_000);
    expect(await store.get('b')).toBeUndefined();
    for (const k of ['a', 'c', 'd']) expect((await store.get(k))?.body).toBe(k);
    expect(store.memoryStats?.().entries).toBe(3);
  });

  it('evicts by bytes, and never keeps an entry larger than the budget', async () => {
    const size = Buffer.byteLength(JSON.stringify(entry('x'.repeat(1000)))) + 1;
    const store = memoryStore({ maxBytes: size * 2 + 10 });
    await store.set('a', entry('x'.repeat(1000)), 60_000);
    await store.set('b', entry('y'.repeat(1000)), 60_000);
    expect(store.memoryStats?.().entries).toBe(2);
    await store.set('c', entry('z'.repeat(1000)), 60_000);
    expect(await store.get('a')).toBeUndefined();
    expect(store.memoryStats?.().entries).toBe(2);
    expect(store.memoryStats?.().bytes).toBeLessThanOrEqual(size * 2 + 10);
    await store.set('huge', entry('h'.repeat(10_000)), 60_000);
    expect(await store.get('huge')).toBeUndefined();
    expect((await store.get('c'))?.body).toBe('z'.repeat(1000));
    expect(await telemetry.gauge('alchemist.cache.entries', { 'alchemist.cache.layer': 'memory' })).toBe(2);
    expect(await telemetry.gauge('alchemist.cache.size', { 'alchemist.cache.layer': 'memory' })).toBe(
      store.memoryStats?.().bytes,
    );
  });

  it('keeps frozen copies, so callers cannot change a cached answer', async () => {
    const store = memoryStore();
    const body = { n: 1, nested: { m: 2 } };
    await store.set('k', entry(body), 60_000);
    body.nested.m = 3;
    const got = (await store.get('k'))?.body as typeof body;
    expect(got.nested.m).toBe(2);
    expect(Object.isFrozen(got.nested)).toBe(true);
  });

  it('clears by prefix or entirely', async () => {
    const store = memoryStore();
    await store.set('ns:a:1', entry(1), 60_000);
    await store.set('ns:b:1', entry(2), 60_000);
    await store.clear('ns:a:');
    expect(await store.get('ns:a:1')).toBeUndefined();
    expect(await store.get('ns:b:1')).toBeDefined();
    await store.clear();
    expect(store.memoryStats?.()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('validates its limits', () => {
    expect(() => memoryStore({ maxEntries: 0 })).toThrow(/maxEntries must be an integer >= 1, got 0/);
    expect(() => memoryStore({ maxBytes: 1.5 })).toThrow(/maxBytes/);
  });
});
