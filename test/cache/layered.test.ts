import { describe, expect, it } from 'vitest';
import { layeredStore } from '../../src/cache/layered.ts';
import { memoryStore } from '../../src/cache/memory.ts';
import type { CacheEntry, CacheStore } from '../../src/cache/types.ts';
import { manualClock } from './app.ts';

const entry = (body: string, storedAt: number, ttl = 1000, stale = 0): CacheEntry => ({
  kind: 'json',
  status: 200,
  body,
  model: 'm',
  storedAt,
  expiresAt: storedAt + ttl,
  staleUntil: storedAt + ttl + stale,
});

/** A memory store posing as the shared layer, with a switch to make it fail. */
function fakeShared(clock: ReturnType<typeof manualClock>) {
  const inner = memoryStore({ clock });
  const state = { down: false, reads: 0 };
  const check = () => {
    if (state.down) throw new Error('shared layer down');
  };
  const store: CacheStore = {
    layer: 'redis',
    async get(key) {
      state.reads++;
      check();
      return inner.get(key);
    },
    async set(key, value, ttl) {
      check();
      await inner.set(key, value, ttl);
    },
    delete: (key) => inner.delete(key),
    clear: (prefix) => inner.clear(prefix),
  };
  return { store, state };
}

describe('layeredStore', () => {
  it('writes through, reads memory first, and copies shared hits into memory', async () => {
    const clock = manualClock(0);
    const memory = memoryStore({ clock });
    const shared = fakeShared(clock);
    const store = layeredStore(memory, shared.store, { clock });
    await store.set('k', entry('v', 0), 1000);
    expect(await shared.store.get('k')).toBeDefined();
    await memory.clear();
    expect(await store.lookup?.('k')).toMatchObject({ layer: 'redis', entry: { body: 'v' } });
    const reads = shared.state.reads;
    expect(await store.lookup?.('k')).toMatchObject({ layer: 'memory', entry: { body: 'v' } });
    expect(shared.state.reads).toBe(reads);
  });

  it('falls back to memory alone when the shared layer fails, saying so', async () => {
    const clock = manualClock(0);
    const shared = fakeShared(clock);
    const store = layeredStore(memoryStore({ clock }), shared.store, { clock });
    await store.set('k', entry('v', 0), 1000);
    shared.state.down = true;
    expect(await store.lookup?.('k')).toMatchObject({ layer: 'memory', entry: { body: 'v' } });
    expect(await store.lookup?.('other')).toEqual({ entry: undefined, layer: 'redis', degraded: true });
    await expect(store.set('n', entry('n', 0), 1000)).resolves.toBeUndefined();
    expect(await store.lookup?.('n')).toMatchObject({ layer: 'memory', entry: { body: 'n' } });
  });

  it('does not touch a shared layer known to be down', async () => {
    const clock = manualClock(0);
    const shared = fakeShared(clock);
    Object.defineProperty(shared.store, 'sharedAvailable', { value: false });
    const store = layeredStore(memoryStore({ clock }), shared.store, { clock });
    expect(await store.lookup?.('k')).toMatchObject({ degraded: true });
    expect(shared.state.reads).toBe(0);
  });

  it('prefers a fresher shared entry over an expired copy kept in memory for stale-if-error', async () => {
    const clock = manualClock(0);
    const memory = memoryStore({ clock });
    const shared = fakeShared(clock);
    const store = layeredStore(memory, shared.store, { clock });
    await store.set('k', entry('old', 0, 1000, 60_000), 61_000);
    clock.advance(2000);
    // The shared layer has nothing newer: the kept copy comes back (stale-if-error decides on it).
    expect(await store.lookup?.('k')).toMatchObject({ layer: 'memory', entry: { body: 'old' } });
    // Another process refreshed the shared layer.
    await shared.store.set('k', entry('new', 1500), 1000);
    expect(await store.lookup?.('k')).toMatchObject({ layer: 'redis', entry: { body: 'new' } });
    expect(await store.lookup?.('k')).toMatchObject({ layer: 'memory', entry: { body: 'new' } });
  });
});
