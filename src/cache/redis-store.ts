import type { RedisConnection } from '../redis/connection.ts';
import type { CacheEntry, CacheStore } from './types.ts';

/** Keys deleted per SCAN/UNLINK round when clearing (each round is one bounded `run()`). */
const CLEAR_BATCH = 500;

function parse(raw: string | null | undefined): CacheEntry | undefined {
  if (raw === null || raw === undefined) return undefined;
  try {
    const entry = JSON.parse(raw) as CacheEntry;
    return entry && (entry.kind === 'json' || entry.kind === 'stream') ? entry : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A cache store on the shared Redis connection: one string per entry (`SET key json PX ttl`), so
 * every process sharing the Redis shares the answers. Every call is bounded by the connection's
 * command timeout and rejects with `StoreUnavailableError` while Redis is down; `layeredStore()`
 * turns that into a memory-only degraded mode.
 *
 * @param connection the process's `createRedisConnection()`
 * @param namespace the key prefix `clear()` without a prefix removes. @default 'alchemist:cache:'
 * @example
 * const store = redisStore(createRedisConnection({ url: process.env.REDIS_URL! }));
 */
export function redisStore(connection: RedisConnection, namespace = 'alchemist:cache:'): CacheStore {
  const store: CacheStore = {
    layer: 'redis',
    async get(key) {
      return parse(await connection.run((client) => client.get(key)));
    },
    async set(key, entry, ttlMs) {
      const ms = Math.ceil(ttlMs);
      if (ms <= 0) return;
      await connection.run((client) =>
        client.set(key, JSON.stringify(entry), { expiration: { type: 'PX', value: ms } }),
      );
    },
    async delete(key) {
      await connection.run((client) => client.unlink(key));
    },
    async clear(prefix = namespace) {
      // Glob characters in the prefix are escaped so MATCH only takes it literally.
      const match = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
      let removed = 0;
      // Every master of a cluster holds its own slots' keys: scan each one.
      for (const node of connection.masters ? await connection.masters() : [connection]) {
        let cursor = '0';
        do {
          const page = await node.run((client) => client.scan(cursor, { MATCH: match, COUNT: CLEAR_BATCH }));
          cursor = String(page.cursor);
          const keys = page.keys.map(String);
          // One key per UNLINK: on a cluster a multi-key UNLINK must stay within one slot.
          if (keys.length > 0) {
            const counts = await node.run((client) => Promise.all(keys.map((key) => client.unlink(key))));
            for (const count of counts) removed += Number(count);
          }
        } while (cursor !== '0');
      }
      return { redis: removed };
    },
  };
  Object.defineProperty(store, 'sharedAvailable', { get: () => connection.available, enumerable: true });
  return store;
}
