import type { AiCacheOptions } from '../cache/options.ts';
import type { CachePolicy } from '../cache/policy.ts';
import { aiCachePolicy } from '../cache/policy.ts';
import type { Policy } from '../core/compose.ts';
import type { AiResult } from '../core/result.ts';
import type { AiRequest, CallOptions, UpstreamCallOptions, WrapOptions } from './wrap.ts';
import { wrapCall } from './wrap.ts';

/** Options of {@link withCache}: the cache's options (or a policy) plus the wrapper's. */
export type WithCacheOptions<Req extends AiRequest = AiRequest> = WrapOptions<Req> & {
  /** A policy from `aiCachePolicy()` to share (with its `clear()`/`stats()`); otherwise one is made from these options. @default undefined */
  cache?: CachePolicy;
} & AiCacheOptions;

function thaw(value: unknown): unknown {
  // Cached answers are frozen (shared by every hit); callers get a copy they may change.
  return value !== null && typeof value === 'object' && Object.isFrozen(value)
    ? structuredClone(value)
    : value;
}

/** Hand callers copies they may change: of cached (frozen) bodies, and of every stream chunk. */
function copying(policy: CachePolicy): Policy<AiResult> {
  return {
    name: policy.name,
    async execute(ctx, next) {
      const result = await policy.execute(ctx, next);
      if (result.kind === 'json') return { ...result, body: thaw(result.body) };
      // Chunks are shared by the recording, coalesced readers and the store: each caller gets copies.
      const chunks = result.chunks;
      return {
        ...result,
        chunks: (async function* () {
          for await (const chunk of chunks) {
            yield chunk !== null && typeof chunk === 'object' ? structuredClone(chunk) : chunk;
          }
        })(),
      };
    },
  };
}

/**
 * Cache an async AI call (an SDK method): the wrapped function keeps its signature, repeated
 * requests are answered from the cache, streams are recorded and replayed as async iterables.
 * The tenant scope comes from `options.tenant` or the per-call `{ tenant }`.
 *
 * @param [options.ttl=3600] freshness in seconds
 * @param [options.tenant='default'] tenant scope of the cache keys
 * @example
 * const create = withCache((req) => openai.chat.completions.create(req), { ttl: 600 });
 * const answer = await create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] });
 */
export function withCache<Req extends AiRequest, Res, Opts extends CallOptions = CallOptions>(
  fn: (request: Req, options: UpstreamCallOptions<Opts>) => Promise<Res>,
  options: WithCacheOptions<Req> = {},
): (request: Req, callOptions?: Opts) => Promise<Res> {
  const policy = options.cache ?? aiCachePolicy(options);
  return wrapCall(fn, [copying(policy)], options);
}
