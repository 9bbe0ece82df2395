import type { Next, Policy } from '../core/compose.ts';
import type { CallContext } from '../core/context.ts';
import type { AiResult, JsonResult } from '../core/result.ts';
import { isSuccess } from '../core/result.ts';
import { ATTR_CACHE_COALESCED } from '../telemetry/semconv.ts';
import { forbidsStore, resultOf, statusOf, upstreamFailed } from './entries.ts';
import { Flight } from './flight.ts';
import { cacheKey, scopePrefix } from './key.ts';
import type { AiCacheOptions } from './options.ts';
import { resolveCacheOptions } from './options.ts';
import { StreamRecording } from './recording.ts';
import type { CacheStatusParams, ForwardReason } from './status.ts';
import { formatCacheStatus } from './status.ts';
import type { Outcome } from './telemetry.ts';
import { recordOutcome, recordSavings } from './telemetry.ts';
import type {
  CacheEntry,
  CacheLayer,
  CacheLookup,
  CacheResult,
  CacheStore,
  ClearedEntries,
} from './types.ts';

/** What `stats()` reports, for the admin API and the CLI. */
export interface CacheStats {
  /** Calls by cache result since start. */
  readonly requests: Readonly<Record<CacheResult, number>>;
  /** Share of lookups (every result but `bypass`) answered from the cache (`hit`, `stale`). */
  readonly hitRate: number;
  /** Upstream calls in flight that identical calls can join. */
  readonly inFlight: number;
  readonly memory?: { entries: number; bytes: number; maxEntries: number; maxBytes: number };
  /** Whether the shared Redis layer answers, when there is one. */
  readonly redisAvailable?: boolean;
}

/** The cache policy: run it with `aiCache()` (Hono), `withCache()` (functions) or in `compose()`. */
export interface CachePolicy extends Policy<AiResult> {
  readonly store: CacheStore;
  /** Delete one tenant's entries, or every entry of this cache's namespace; resolves to the count per layer. */
  clear(tenant?: string): Promise<ClearedEntries>;
  stats(): CacheStats;
  /** Close the Redis connection the cache opened itself (from a `redis` URL). */
  close(): Promise<void>;
}

/** What a flight hands to followers: a JSON result, or a recording each follower replays. */
type Shared =
  | { readonly kind: 'json'; readonly result: JsonResult }
  | { readonly kind: 'stream'; readonly status: number; readonly recording: StreamRecording };

/**
 * The AI response cache as a policy, created once: tenant-scoped SHA-256 keys over the canonical
 * request, a memory LRU (in front of Redis when `redis` is set), coalescing of identical in-flight
 * calls, stream recording and replay, request `Cache-Control`, stale-if-error, RFC 9211
 * `Cache-Status` in `ctx.decisions`, and `alchemist.cache.*` metrics.
 *
 * @param [options.ttl=3600] freshness in seconds
 * @param [options.redis] a shared `createRedisConnection()` or a URL
 * @param [options.maxMemoryItems=10000] memory layer size
 * @param [options.staleIfError=0] seconds an expired answer may still serve when upstream fails
 * @example
 * const cache = aiCachePolicy({ ttl: 600, redis });
 * app.use('/v1/*', aiCache(cache));
 * app.post('/admin/cache/clear', async (c) => { await cache.clear(); return c.body(null, 204); });
 */
export function aiCachePolicy(options: AiCacheOptions = {}): CachePolicy {
  const config = resolveCacheOptions(options);
  const { store, clock, meterProvider } = config;
  const flights = new Map<string, Flight<Shared>>();
  const counts: Record<CacheResult, number> = {
    hit: 0,
    miss: 0,
    stale: 0,
    bypass: 0,
    coalesced: 0,
    error: 0,
  };
  const decide = (ctx: CallContext, outcome: Outcome) => {
    counts[outcome.result]++;
    recordOutcome(ctx, outcome, meterProvider);
  };

  const ttlFor = (ctx: CallContext) =>
    ctx.cacheControl.maxAge !== undefined
      ? ctx.cacheControl.maxAge * 1000
      : (config.ttlByRouteMs.get(ctx.route) ?? config.ttlMs);

  /** Store an answer; false when nothing was kept (TTL 0 or the store failed). */
  async function write(
    key: string,
    ctx: CallContext,
    fields: Pick<CacheEntry, 'kind' | 'status' | 'body' | 'chunks'>,
  ) {
    const ttlMs = ttlFor(ctx);
    if (ttlMs <= 0) return false;
    const storedAt = clock.now();
    const entry: CacheEntry = {
      ...fields,
      model: ctx.model,
      storedAt,
      expiresAt: storedAt + ttlMs,
      staleUntil: storedAt + ttlMs + config.staleMs,
    };
    try {
      await store.set(key, entry, ttlMs + config.staleMs);
      return true;
    } catch {
      return false;
    }
  }

  async function lookup(key: string): Promise<CacheLookup> {
    try {
      if (store.lookup) return await store.lookup(key);
      return { entry: await store.get(key), layer: store.layer };
    } catch {
      return { entry: undefined, layer: store.layer, degraded: true };
    }
  }

  async function execute(ctx: CallContext, next: Next<AiResult>): Promise<AiResult> {
    if (!config.enabled) return next(ctx);
    const started = performance.now();
    const cc = ctx.cacheControl;
    const bypass = (detail: string) => {
      decide(ctx, {
        result: 'bypass',
        status: formatCacheStatus({ fwd: 'bypass', detail }),
        lookupMs: performance.now() - started,
      });
      return next(ctx);
    };
    // no-store (RFC 9111 §5.2.1.5): neither read nor write.
    if (cc.noStore) return bypass('no-store');
    let identity: string | undefined;
    if (config.key) {
      identity = config.key(ctx);
      if (identity === undefined) return bypass('no-key');
    }
    const key = cacheKey(config.namespace, config.shareAcrossTenants ? 'shared' : ctx.tenant, ctx, identity);
    const keyHash = key.slice(-64, -48);

    let found: CacheLookup = { entry: undefined, layer: store.layer };
    let forward: ForwardReason = 'miss';
    let stale: CacheEntry | undefined;
    if (cc.noCache) {
      forward = 'request'; // no-cache (RFC 9111 §5.2.1.4): go upstream, then store the fresh answer
    } else {
      found = await lookup(key);
      const { entry } = found;
      if (entry) {
        const now = clock.now();
        const ageMs = now - entry.storedAt;
        const fresh = now < entry.expiresAt;
        if (fresh && (cc.maxAge === undefined || ageMs <= cc.maxAge * 1000)) {
          const ttlSeconds = Math.floor((entry.expiresAt - now) / 1000);
          decide(ctx, {
            result: 'hit',
            layer: found.layer,
            status: formatCacheStatus({ hit: true, ttl: ttlSeconds }),
            lookupMs: performance.now() - started,
            keyHash,
            ttlSeconds,
          });
          recordSavings(ctx, entry, meterProvider);
          return resultOf(entry, ageMs);
        }
        forward = fresh ? 'request' : 'stale';
        if (now < entry.staleUntil && config.staleMs > 0) stale = entry;
      }
    }
    const lookupMs = performance.now() - started;
    const layer: CacheLayer = found.layer;
    const missResult: CacheResult = found.degraded ? 'error' : 'miss';
    const missDetail = found.degraded ? 'store-unavailable' : undefined;

    const serveStale = (entry: CacheEntry, failedStatus: number | undefined): AiResult => {
      const now = clock.now();
      const ttlSeconds = Math.floor((entry.expiresAt - now) / 1000);
      const params: CacheStatusParams = { fwd: 'stale', ttl: ttlSeconds, detail: 'stale-if-error' };
      decide(ctx, {
        result: 'stale',
        layer,
        status: formatCacheStatus(
          failedStatus === undefined ? params : { ...params, fwdStatus: failedStatus },
        ),
        lookupMs,
        keyHash,
        ttlSeconds,
      });
      recordSavings(ctx, entry, meterProvider);
      return resultOf(entry, now - entry.storedAt);
    };
    const forwarded = (result: CacheResult, params: CacheStatusParams) =>
      decide(ctx, {
        result,
        layer,
        status: formatCacheStatus({ fwd: forward, ...params, ...(missDetail ? { detail: missDetail } : {}) }),
        lookupMs,
        keyHash,
      });

    // Follower: an identical call is already upstream; wait for its answer instead of calling again.
    const existing = config.coalesce ? flights.get(key) : undefined;
    if (existing) {
      existing.join(ctx.signal);
      // No convention for coalescing yet; messaging batches link to what they stand for (semconv).
      ctx.span.addLink({ context: existing.leader, attributes: { [ATTR_CACHE_COALESCED]: true } });
      let shared: Shared;
      try {
        shared = await existing.wait(ctx.signal);
      } catch (error) {
        if (stale && upstreamFailed(error)) return serveStale(stale, statusOf(error));
        forwarded('coalesced', { collapsed: true, fwdStatus: statusOf(error) });
        throw error;
      }
      if (shared.kind === 'json') {
        const { result } = shared;
        if (stale && result.status >= 500) return serveStale(stale, result.status);
        forwarded('coalesced', {
          collapsed: true,
          ...(isSuccess(result) ? {} : { fwdStatus: result.status }),
        });
        // Each caller gets its own copy of the body (callers of wrapped SDK functions may mutate it).
        return { ...result, body: structuredClone(result.body) };
      }
      forwarded('coalesced', { collapsed: true });
      return { kind: 'stream', status: shared.status, chunks: shared.recording.replay() };
    }

    // Leader: call upstream (with a signal that outlives this caller while followers wait).
    const flight = config.coalesce ? new Flight<Shared>(ctx.span.spanContext()) : undefined;
    if (flight) {
      flights.set(key, flight);
      flight.join(ctx.signal);
    }
    const land = () => {
      if (flight && flights.get(key) === flight) flights.delete(key);
      flight?.finish();
    };
    let result: AiResult;
    try {
      result = await next(flight ? { ...ctx, signal: flight.signal } : ctx);
    } catch (error) {
      land();
      flight?.reject(error);
      if (stale && upstreamFailed(error)) return serveStale(stale, statusOf(error));
      forwarded(missResult, { fwdStatus: statusOf(error) });
      throw error;
    }
    // A fallback model's answer is not this model's answer: serve it, but do not keep it under this key.
    const storable = isSuccess(result) && !forbidsStore(result) && ctx.decisions.fallbackModel === undefined;

    if (result.kind === 'json') {
      const stored =
        storable && (await write(key, ctx, { kind: 'json', status: result.status, body: result.body }));
      flight?.resolve({ kind: 'json', result });
      land();
      if (stale && result.status >= 500) return serveStale(stale, result.status);
      forwarded(missResult, { stored, ...(isSuccess(result) ? {} : { fwdStatus: result.status }) });
      return result;
    }

    // Streams pass through as they arrive; the recording stores them only if they complete.
    const streamed = result;
    const recording = new StreamRecording(streamed.chunks, async (done) => {
      land();
      if (done.state === 'complete' && storable && ctx.wire.streamComplete(done.chunks)) {
        await write(key, ctx, { kind: 'stream', status: streamed.status, chunks: done.chunks });
      }
    });
    flight?.resolve({ kind: 'stream', status: streamed.status, recording });
    forwarded(missResult, isSuccess(streamed) ? {} : { fwdStatus: streamed.status });
    return { ...streamed, chunks: recording.replay() };
  }

  return {
    name: 'cache',
    store,
    execute,
    async clear(tenant) {
      const removed = await store.clear(
        tenant === undefined ? `${config.namespace}:` : scopePrefix(config.namespace, tenant),
      );
      return removed ?? {};
    },
    stats() {
      const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
      const eligible = total - counts.bypass;
      const answered = counts.hit + counts.stale;
      const stats: {
        -readonly [K in keyof CacheStats]: CacheStats[K];
      } = {
        requests: { ...counts },
        hitRate: eligible === 0 ? 0 : answered / eligible,
        inFlight: flights.size,
      };
      const memory = store.memoryStats?.();
      if (memory) stats.memory = memory;
      if (store.sharedAvailable !== undefined) stats.redisAvailable = store.sharedAvailable;
      return stats;
    },
    async close() {
      await config.ownedConnection?.close();
    },
  };
}
