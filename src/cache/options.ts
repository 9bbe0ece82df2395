import type { MeterProvider } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import type { CallContext } from '../core/context.ts';
import type { RedisConnection } from '../redis/connection.ts';
import { createRedisConnection } from '../redis/connection.ts';
import { layeredStore } from './layered.ts';
import { memoryStore } from './memory.ts';
import { redisStore } from './redis-store.ts';
import type { CacheStore } from './types.ts';

/** Options of `aiCachePolicy()`, `aiCache()` and `withCache()`. */
export interface AiCacheOptions {
  /** Turn caching off without removing the middleware (`[cache] enabled`, `CACHE_ENABLED`). @default true */
  enabled?: boolean;
  /** Freshness of stored answers in seconds (`[cache] default_ttl`); a request's `max-age` overrides it. @default 3600 */
  ttl?: number;
  /** Freshness per route (`http.route` or wrapper name) in seconds, over `ttl`. @default {} */
  ttlByRoute?: Readonly<Record<string, number>>;
  /** Seconds an expired answer is kept to be served when the upstream fails (stale-if-error, RFC 5861). @default 0 (off) */
  staleIfError?: number;
  /** Most entries in the memory layer (`[cache] max_memory_items`). @default 10000 */
  maxMemoryItems?: number;
  /** Most bytes in the memory layer. @default 67108864 (64 MiB) */
  maxMemoryBytes?: number;
  /**
   * Shared Redis layer behind memory: a `createRedisConnection()` (shared with the rate limiter), or
   * a URL (`[cache] redis_url`, `REDIS_URL`) for a connection this cache owns. @default none (memory only)
   */
  redis?: RedisConnection | string;
  /** A custom store instead of memory (+ Redis), e.g. `keyvStore(keyv)`. @default memory (+ Redis) */
  store?: CacheStore;
  /** Key prefix, to separate apps sharing one Redis. @default 'alchemist:cache' */
  namespace?: string;
  /**
   * Let all tenants share answers. Off by default: each tenant has its own entries.
   * @default false
   */
  shareAcrossTenants?: boolean;
  /**
   * Override what identifies an answer: return a string (hashed with the tenant scope) or
   * `undefined` to not cache this call. @default provider + model + canonical output-changing fields
   */
  key?: (ctx: CallContext) => string | undefined;
  /** Answer identical concurrent calls with one upstream call. @default true */
  coalesce?: boolean;
  /** Time source for TTLs. @default Date.now */
  clock?: Clock;
  /** Where cache metrics (and the owned Redis connection's) are recorded. @default the global MeterProvider */
  meterProvider?: MeterProvider;
}

export interface ResolvedCacheOptions {
  readonly enabled: boolean;
  readonly ttlMs: number;
  readonly ttlByRouteMs: ReadonlyMap<string, number>;
  readonly staleMs: number;
  readonly namespace: string;
  readonly shareAcrossTenants: boolean;
  readonly key: ((ctx: CallContext) => string | undefined) | undefined;
  readonly coalesce: boolean;
  readonly clock: Clock;
  readonly meterProvider: MeterProvider | undefined;
  readonly store: CacheStore;
  /** A connection this cache opened (from a URL) and closes. */
  readonly ownedConnection: RedisConnection | undefined;
}

function seconds(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`AiCacheOptions.${name} must be a number of seconds >= 0, got ${String(value)}`);
  }
  return value * 1000;
}

function count(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`AiCacheOptions.${name} must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}

/** Validate options and build the store once; errors name the bad value. */
export function resolveCacheOptions(options: AiCacheOptions): ResolvedCacheOptions {
  const clock = options.clock ?? systemClock;
  const ttlByRouteMs = new Map<string, number>();
  for (const [route, ttl] of Object.entries(options.ttlByRoute ?? {})) {
    ttlByRouteMs.set(route, seconds(`ttlByRoute[${JSON.stringify(route)}]`, ttl));
  }
  const namespace = options.namespace ?? 'alchemist:cache';
  if (typeof namespace !== 'string' || namespace === '' || /[*?[\]\s]/.test(namespace)) {
    throw new TypeError(
      `AiCacheOptions.namespace must be a non-empty string without spaces or glob characters, got ${JSON.stringify(namespace)}`,
    );
  }
  if (options.key !== undefined && typeof options.key !== 'function') {
    throw new TypeError(`AiCacheOptions.key must be a function, got ${typeof options.key}`);
  }
  if (options.store && options.redis !== undefined) {
    throw new TypeError('AiCacheOptions: give either `store` or `redis`, not both');
  }
  const maxEntries = count('maxMemoryItems', options.maxMemoryItems ?? 10_000);
  const maxBytes = count('maxMemoryBytes', options.maxMemoryBytes ?? 64 * 1024 * 1024);
  const { meterProvider } = options;

  let store = options.store;
  let ownedConnection: RedisConnection | undefined;
  if (!store) {
    const memory = memoryStore({
      maxEntries,
      maxBytes,
      clock,
      ...(meterProvider ? { meterProvider } : {}),
    });
    if (options.redis === undefined || options.redis === '') {
      store = memory;
    } else {
      let connection: RedisConnection;
      if (typeof options.redis === 'string') {
        ownedConnection = createRedisConnection({
          url: options.redis,
          ...(meterProvider ? { meterProvider } : {}),
        });
        connection = ownedConnection;
      } else {
        connection = options.redis;
      }
      store = layeredStore(memory, redisStore(connection, `${namespace}:`), { clock });
    }
  }

  return {
    enabled: options.enabled ?? true,
    ttlMs: seconds('ttl', options.ttl ?? 3600),
    ttlByRouteMs,
    staleMs: seconds('staleIfError', options.staleIfError ?? 0),
    namespace,
    shareAcrossTenants: options.shareAcrossTenants ?? false,
    key: options.key,
    coalesce: options.coalesce ?? true,
    clock,
    meterProvider,
    store,
    ownedConnection,
  };
}
