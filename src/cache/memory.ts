import type { MeterProvider } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import { getInstruments } from '../telemetry/instruments.ts';
import { ATTR_CACHE_LAYER } from '../telemetry/semconv.ts';
import type { CacheEntry, CacheStore } from './types.ts';

/** Options of {@link memoryStore}. */
export interface MemoryStoreOptions {
  /** Most entries kept; the least recently used go first. @default 10000 */
  maxEntries?: number;
  /** Most bytes kept (entries measured as UTF-8 JSON); an entry larger than this is not kept. @default 67108864 (64 MiB) */
  maxBytes?: number;
  /** Time source for TTLs. @default Date.now */
  clock?: Clock;
  /** Where `alchemist.cache.entries` / `alchemist.cache.size` are recorded. @default the global MeterProvider */
  meterProvider?: MeterProvider;
}

interface Slot {
  readonly entry: CacheEntry;
  readonly bytes: number;
  readonly deadline: number;
}

const MEMORY = { [ATTR_CACHE_LAYER]: 'memory' };

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

function checkLimit(name: string, value: number | undefined, fallback: number): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved) || resolved < 1) {
    throw new TypeError(`MemoryStoreOptions.${name} must be an integer >= 1, got ${String(value)}`);
  }
  return resolved;
}

/**
 * An in-process LRU cache store bounded by entry count AND bytes, with per-entry TTLs on an
 * injectable clock. Entries are kept as frozen JSON copies: what is stored is exactly what Redis
 * would return, and no caller can mutate a cached answer.
 *
 * @param [options.maxEntries=10000] most entries
 * @param [options.maxBytes=64 MiB] most bytes
 * @example
 * const store = memoryStore({ maxEntries: 1000, maxBytes: 8 * 1024 * 1024 });
 * app.use('/v1/*', aiCache({ store }));
 */
export function memoryStore(options: MemoryStoreOptions = {}): CacheStore {
  const maxEntries = checkLimit('maxEntries', options.maxEntries, 10_000);
  const maxBytes = checkLimit('maxBytes', options.maxBytes, 64 * 1024 * 1024);
  const clock = options.clock ?? systemClock;
  const { meterProvider } = options;
  // A Map iterates in insertion order: re-inserting on access makes the first key the least recent.
  const slots = new Map<string, Slot>();
  let bytes = 0;

  const report = () => {
    try {
      const instruments = getInstruments(meterProvider);
      instruments.cacheEntries.record(slots.size, MEMORY);
      instruments.cacheSize.record(bytes, MEMORY);
    } catch {
      // Telemetry never breaks the call.
    }
  };
  const remove = (key: string, slot: Slot) => {
    slots.delete(key);
    bytes -= slot.bytes;
  };
  const evict = () => {
    for (const [key, slot] of slots) {
      if (slots.size <= maxEntries && bytes <= maxBytes) return;
      remove(key, slot);
    }
  };
  report();

  return {
    layer: 'memory',
    async get(key) {
      const slot = slots.get(key);
      if (!slot) return undefined;
      slots.delete(key);
      if (slot.deadline <= clock.now()) {
        bytes -= slot.bytes;
        report();
        return undefined;
      }
      slots.set(key, slot);
      return slot.entry;
    },
    async set(key, entry, ttlMs) {
      const previous = slots.get(key);
      if (previous) remove(key, previous);
      const json = JSON.stringify(entry);
      const size = Buffer.byteLength(json) + key.length;
      if (ttlMs > 0 && size <= maxBytes) {
        slots.set(key, {
          entry: deepFreeze(JSON.parse(json) as CacheEntry),
          bytes: size,
          deadline: clock.now() + ttlMs,
        });
        bytes += size;
        evict();
      }
      report();
    },
    async delete(key) {
      const slot = slots.get(key);
      if (slot) {
        remove(key, slot);
        report();
      }
    },
    async clear(prefix) {
      const before = slots.size;
      if (prefix === undefined) {
        slots.clear();
        bytes = 0;
      } else {
        for (const [key, slot] of slots) if (key.startsWith(prefix)) remove(key, slot);
      }
      report();
      return { memory: before - slots.size };
    },
    memoryStats: () => ({ entries: slots.size, bytes, maxEntries, maxBytes }),
  };
}
