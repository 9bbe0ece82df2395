import type { CacheEntry, CacheLayer, CacheStore } from './types.ts';

/**
 * The part of a Keyv instance (keyv 5 or 6) the adapter uses; typed structurally so keyv stays an
 * optional, user-side dependency.
 */
export interface KeyvLike {
  get(key: string): Promise<unknown>;
  /** `ttl` in milliseconds. */
  set(key: string, value: unknown, ttl?: number): Promise<unknown>;
  delete(key: string): Promise<unknown>;
  clear(): Promise<void>;
  /** Present when the underlying store can list its entries (Map, Redis, SQLite...). */
  iterator?: (...args: never[]) => AsyncGenerator<unknown, void, unknown>;
}

/** Options of {@link keyvStore}. */
export interface KeyvStoreOptions {
  /** The layer name on metrics. @default 'keyv' */
  layer?: CacheLayer;
}

/**
 * Plug any Keyv store (Redis, Postgres, SQLite, Mongo...) in as a cache store. Attach an `'error'`
 * listener to the Keyv instance: in keyv 6 it decides whether failures throw (see
 * `../shared/notes/libraries.md` §1.3). Clearing one tenant needs a store Keyv can iterate;
 * clearing everything uses `keyv.clear()` (the Keyv namespace).
 *
 * @example
 * const keyv = new Keyv({ store: new KeyvSqlite('sqlite://cache.db'), namespace: 'ai' });
 * keyv.on('error', () => {});
 * app.use('/v1/*', aiCache({ store: keyvStore(keyv) }));
 */
export function keyvStore(keyv: KeyvLike, options: KeyvStoreOptions = {}): CacheStore {
  return {
    layer: options.layer ?? 'keyv',
    async get(key) {
      const value = (await keyv.get(key)) as CacheEntry | undefined | null;
      return value && (value.kind === 'json' || value.kind === 'stream') ? value : undefined;
    },
    async set(key, entry, ttlMs) {
      if (ttlMs > 0) await keyv.set(key, entry, Math.ceil(ttlMs));
    },
    async delete(key) {
      await keyv.delete(key);
    },
    async clear(prefix) {
      if (prefix === undefined) return keyv.clear();
      if (!keyv.iterator) {
        throw new TypeError('keyvStore: clearing one tenant needs a Keyv store that supports iterator()');
      }
      const doomed: string[] = [];
      for await (const item of keyv.iterator()) {
        const key = Array.isArray(item) ? item[0] : undefined;
        if (typeof key === 'string' && key.startsWith(prefix)) doomed.push(key);
      }
      for (const key of doomed) await keyv.delete(key);
      return { keyv: doomed.length };
    },
  };
}
