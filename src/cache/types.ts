/** Where an answer came from, or which layer was consulted last (`alchemist.cache.layer`). */
export type CacheLayer = 'memory' | 'redis' | 'keyv';

/** Entries a `clear()` removed, per layer (a layer that cannot count them is absent). */
export type ClearedEntries = Partial<Record<CacheLayer, number>>;

/**
 * The outcome of one call through the cache (`alchemist.cache.result`):
 * `hit` fresh entry served; `miss` forwarded upstream; `stale` expired entry served because the
 * upstream failed; `bypass` the cache was not used (no-store, no key); `coalesced` answered by an
 * identical call already in flight; `error` the store failed, so the call went upstream.
 */
export type CacheResult = 'hit' | 'miss' | 'stale' | 'bypass' | 'coalesced' | 'error';

/** A stored answer: a JSON body, or every chunk of a complete stream in order (usage chunk included). */
export interface CacheEntry {
  readonly kind: 'json' | 'stream';
  readonly status: number;
  /** The JSON body (kind `json`). */
  readonly body?: unknown;
  /** The stream's chunks (kind `stream`). */
  readonly chunks?: readonly unknown[];
  /** The model that was asked, for cost-saved estimates. */
  readonly model: string;
  /** When it was stored (ms, the cache's clock). */
  readonly storedAt: number;
  /** Fresh until (ms). */
  readonly expiresAt: number;
  /** Kept, for stale-if-error only, until (ms). Equal to `expiresAt` when stale-if-error is off. */
  readonly staleUntil: number;
}

/** What a lookup found, and where. */
export interface CacheLookup {
  readonly entry: CacheEntry | undefined;
  /** The layer that answered, or the last layer consulted on a miss. */
  readonly layer: CacheLayer;
  /** A layer failed (e.g. Redis down) and was skipped: the miss may be a false one. */
  readonly degraded?: boolean;
}

/**
 * A place to keep answers. Keys arrive fully formed (namespace, tenant scope and hash), so a store
 * only maps strings to entries with a TTL. Implement it to plug any backend; `keyvStore()` adapts
 * any Keyv instance.
 */
export interface CacheStore {
  /** The layer name reported on metrics. */
  readonly layer: CacheLayer;
  get(key: string): Promise<CacheEntry | undefined>;
  /** Keep `entry` for `ttlMs` milliseconds (after which `get` returns undefined). */
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Delete every key starting with `prefix`, or every key of this cache when omitted. Returns how many
   * entries each layer removed, when the store can count them.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: stores written before counts existed resolve to void.
  clear(prefix?: string): Promise<ClearedEntries | void>;
  /** Layered stores say which layer answered and whether one failed. */
  lookup?(key: string): Promise<CacheLookup>;
  /** Entries and bytes held in memory, when the store has a memory layer. */
  memoryStats?(): { entries: number; bytes: number; maxEntries: number; maxBytes: number };
  /** Whether a shared (Redis) layer is currently answering, when the store has one. */
  readonly sharedAvailable?: boolean;
}
