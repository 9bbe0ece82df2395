export type { KeyvLike, KeyvStoreOptions } from './keyv.ts';
export { keyvStore } from './keyv.ts';
export type { LayeredStoreOptions } from './layered.ts';
export { layeredStore } from './layered.ts';
export type { MemoryStoreOptions } from './memory.ts';
export { memoryStore } from './memory.ts';
export type { AiCacheOptions } from './options.ts';
export type { CachePolicy, CacheStats } from './policy.ts';
export { aiCachePolicy } from './policy.ts';
export { redisStore } from './redis-store.ts';
export type {
  CacheEntry,
  CacheLayer,
  CacheLookup,
  CacheResult,
  CacheStore,
  ClearedEntries,
} from './types.ts';
