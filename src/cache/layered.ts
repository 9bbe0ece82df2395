import { diag } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { CacheEntry, CacheLookup, CacheStore } from './types.ts';

/** Options of {@link layeredStore}. */
export interface LayeredStoreOptions {
  /** Time source, to copy a shared hit into memory with its remaining lifetime. @default Date.now */
  clock?: Clock;
}

/**
 * Memory in front of a shared store (Redis): reads try memory, then the shared layer, and copy
 * shared hits into memory; writes go to both (write-through). When the shared layer fails or is
 * known to be down, the cache keeps working on memory alone: the lookup says `degraded` (recorded
 * as an `error` result on layer `redis`) and costs no Redis round trip while Redis is down.
 *
 * @example
 * const store = layeredStore(memoryStore(), redisStore(createRedisConnection({ url })));
 */
export function layeredStore(
  memory: CacheStore,
  shared: CacheStore,
  options: LayeredStoreOptions = {},
): CacheStore {
  const clock = options.clock ?? systemClock;
  const warn = (what: string, error: unknown) =>
    diag.debug(`alchemist-perf cache: ${shared.layer} ${what} failed: ${(error as Error)?.name ?? error}`);

  async function lookup(key: string): Promise<CacheLookup> {
    const local = await memory.get(key);
    if (local && clock.now() < local.expiresAt) return { entry: local, layer: memory.layer };
    // Nothing fresh here (a kept-for-stale-if-error copy at most): another process may have
    // refreshed the shared layer.
    const fallback: CacheLookup = local
      ? { entry: local, layer: memory.layer }
      : { entry: undefined, layer: shared.layer };
    if (shared.sharedAvailable === false) return { ...fallback, degraded: true };
    let entry: CacheEntry | undefined;
    try {
      entry = await shared.get(key);
    } catch (error) {
      warn('get', error);
      return { ...fallback, degraded: true };
    }
    if (!entry || (local && entry.storedAt <= local.storedAt)) return fallback;
    const remaining = entry.staleUntil - clock.now();
    if (remaining > 0) await memory.set(key, entry, remaining);
    return { entry, layer: shared.layer };
  }

  const store: CacheStore = {
    layer: memory.layer,
    lookup,
    async get(key) {
      return (await lookup(key)).entry;
    },
    async set(key, entry, ttlMs) {
      await memory.set(key, entry, ttlMs);
      if (shared.sharedAvailable === false) return;
      try {
        await shared.set(key, entry, ttlMs);
      } catch (error) {
        warn('set', error);
      }
    },
    async delete(key) {
      await memory.delete(key);
      await shared.delete(key);
    },
    async clear(prefix) {
      const local = await memory.clear(prefix);
      const remote = await shared.clear(prefix);
      return { ...local, ...remote };
    },
  };
  if (memory.memoryStats) store.memoryStats = memory.memoryStats;
  Object.defineProperty(store, 'sharedAvailable', { get: () => shared.sharedAvailable, enumerable: true });
  return store;
}
