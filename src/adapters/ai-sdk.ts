import type { LanguageModelMiddleware } from 'ai';
import { APICallError } from 'ai';
import type { CallContext, RequestCacheControl } from '../core/context.ts';
import { parseCacheControl } from '../core/context.ts';
import { UpstreamError } from '../core/errors.ts';
import { retryAfterSeconds } from '../wire/http.ts';
import type { WithAllOptions } from '../wrap/all.ts';
import { withAll } from '../wrap/all.ts';
import type { AiRequest, CallOptions } from '../wrap/wrap.ts';
import {
  canonicalRequest,
  decodeGenerate,
  decodePart,
  encodeGenerate,
  encodePart,
  type PartEnvelope,
} from './ai-sdk-envelope.ts';
import type { CallParams, GenerateResult, LanguageModel, StreamPart, StreamResult } from './ai-sdk-types.ts';
import { headerOf } from './headers.ts';
import { toCallerError, translated } from './translate.ts';

type Per<T> = T | ((params: CallParams, model: LanguageModel) => T);

/** Options of {@link aiSdkMiddleware}: the policies by role, and how calls are labelled and scoped. */
export interface AiSdkMiddlewareOptions
  extends Omit<WithAllOptions, 'provider' | 'tenant' | 'tier' | 'operation'> {
  /**
   * gen_ai.provider.name of the calls.
   * @default the model's provider id up to its first dot (`openai.chat` → `openai`)
   */
  provider?: Per<string>;
  /** Cache and limit scope. @default 'default' */
  tenant?: Per<string>;
  /** Rate-limit tier. @default 'default' */
  tier?: Per<string>;
  /** Route label on metrics. @default 'ai-sdk' */
  route?: string;
  /** Receives each call's context; `ctx.decisions` tells the cache status, attempts and usage. @default none */
  onContext?: (ctx: CallContext) => void;
}

interface AiSdkCallOptions extends CallOptions {
  readonly kind: 'generate' | 'stream';
  readonly model: LanguageModel;
  readonly params: CallParams;
  readonly state: { stream?: StreamResult; ctx?: CallContext };
}

function providerOf(model: LanguageModel): string {
  return model.provider.split('.')[0] || model.provider;
}

function resolver(value: Per<string> | undefined, fallback: (call: AiSdkCallOptions) => string) {
  return (call: AiSdkCallOptions) =>
    typeof value === 'function' ? value(call.params, call.model) : (value ?? fallback(call));
}

/** An AI SDK provider error as a policy error: its HTTP status and `Retry-After` for the breaker. */
function toPolicyError(error: unknown): unknown {
  if (!APICallError.isInstance(error)) return error;
  const status = error.statusCode ?? 0;
  const retryAfter = retryAfterSeconds(error.responseHeaders);
  return translated(
    new UpstreamError(
      status ? `Provider answered ${status}` : 'Connection to the provider failed',
      status,
      retryAfter === undefined ? { cause: error } : { cause: error, retryAfter },
    ),
  );
}

/**
 * The provider's stream parts in envelopes. An `error` part ends the stream with that error, so the
 * cache never stores a failed answer and the breaker counts it; a stream that ends without its
 * `finish` part, or because the call was aborted, ends with an error too (it is not a whole answer).
 */
async function* envelopes(stream: ReadableStream<StreamPart>, signal: AbortSignal) {
  let finished = false;
  for await (const part of stream) {
    if (part.type === 'error') {
      throw translated(new UpstreamError('Provider stream reported an error', 0, { cause: part.error }));
    }
    if (part.type === 'finish') finished = true;
    yield encodePart(part);
  }
  signal.throwIfAborted();
  if (!finished) throw new UpstreamError('The stream ended before its finish part', 0);
}

/** Chunks that went through the policies, as the ReadableStream of parts the AI SDK expects. */
function toPartStream(chunks: AsyncIterable<unknown>): ReadableStream<StreamPart> {
  const iterator = chunks[Symbol.asyncIterator]();
  return new ReadableStream<StreamPart>(
    {
      async pull(controller) {
        try {
          const next = await iterator.next();
          if (next.done) controller.close();
          else controller.enqueue(decodePart(next.value as PartEnvelope));
        } catch (error) {
          // The AI SDK reports stream failures as an `error` part (LanguageModelV4StreamPart).
          controller.enqueue({ type: 'error', error: toCallerError(error) });
          controller.close();
        }
      },
      async cancel() {
        await iterator.return?.();
      },
    },
    { highWaterMark: 0 },
  );
}

/** Add the cache status to `providerMetadata.alchemist`, the AI SDK's place for extra result data. */
function withCacheStatus(result: GenerateResult, ctx: CallContext | undefined): GenerateResult {
  const cacheStatus = ctx?.decisions.cacheStatus;
  if (!cacheStatus) return result;
  return { ...result, providerMetadata: { ...result.providerMetadata, alchemist: { cacheStatus } } };
}

/**
 * A Vercel AI SDK language-model middleware that runs `generateText`/`streamText` (and everything built
 * on them) through alchemist policies: rate limits, then the cache, then the breaker, with a request
 * span, a GenAI CLIENT span per upstream attempt and the `alchemist.*` metrics. Generated results and
 * streams come back in the AI SDK's own types; a cached stream is replayed part for part. Provider
 * errors reach the AI SDK as its own `APICallError`s; policy rejections as `CircuitOpenError`,
 * `RateLimitedError`, ... A `Cache-Control` request header (`headers` of the call) steers the cache.
 * The breaker's model fallbacks do not apply here: the model object is fixed by `wrapLanguageModel`.
 *
 * @param [options.rateLimit] limits, outermost
 * @param [options.cache] the cache
 * @param [options.breaker] breaker/retry/timeout, innermost
 * @param [options.provider] gen_ai.provider.name (default: from the model's provider id)
 * @param [options.tenant='default'] cache and limit scope
 * @example
 * const model = wrapLanguageModel({
 *   model: openai('gpt-4o-mini'),
 *   middleware: aiSdkMiddleware({ cache: aiCachePolicy(), breaker: createResilience() }),
 * });
 * const { text } = await generateText({ model, prompt: 'Hello' });
 */
export function aiSdkMiddleware(options: AiSdkMiddlewareOptions = {}): LanguageModelMiddleware {
  const { provider, tenant, tier, route, onContext, ...policies } = options;
  const providerFor = resolver(provider, (call) => providerOf(call.model));
  const tenantFor = resolver(tenant, () => 'default');
  const tierFor = resolver(tier, () => 'default');
  // The provider is per model; wrapCall asks for it by request, so remember it for each request.
  const providers = new WeakMap<object, string>();

  const run = withAll<AiRequest, unknown, AiSdkCallOptions>(
    async function aiSdkCall(_request, { signal, callOptions }) {
      const { kind, model, params, state } = callOptions;
      const call = { ...params, abortSignal: signal };
      try {
        if (kind === 'generate') return encodeGenerate(await model.doGenerate(call));
        const result = await model.doStream(call);
        state.stream = result;
        return envelopes(result.stream, signal);
      } catch (error) {
        throw toPolicyError(error);
      }
    },
    {
      ...policies,
      provider: (request) => providers.get(request) ?? 'unknown',
      route: route ?? 'ai-sdk',
    },
  );

  const execute = (kind: 'generate' | 'stream', model: LanguageModel, params: CallParams) => {
    const state: AiSdkCallOptions['state'] = {};
    const header = headerOf(params.headers, 'cache-control');
    const cacheControl: RequestCacheControl | undefined = header ? parseCacheControl(header) : undefined;
    const call: AiSdkCallOptions = {
      kind,
      model,
      params,
      state,
      ...(params.abortSignal ? { signal: params.abortSignal } : {}),
      ...(cacheControl ? { cacheControl } : {}),
      onContext(ctx) {
        state.ctx = ctx;
        onContext?.(ctx);
      },
    };
    const request = canonicalRequest(model, params, kind === 'stream');
    providers.set(request, providerFor(call));
    const answer = run(request, { ...call, tenant: tenantFor(call), tier: tierFor(call) });
    return { answer, state };
  };

  return {
    specificationVersion: 'v4',
    async wrapGenerate({ params, model }) {
      const { answer, state } = execute('generate', model, params);
      try {
        return withCacheStatus(decodeGenerate(await answer), state.ctx);
      } catch (error) {
        throw toCallerError(error);
      }
    },
    async wrapStream({ params, model }) {
      const { answer, state } = execute('stream', model, params);
      let chunks: unknown;
      try {
        chunks = await answer;
      } catch (error) {
        throw toCallerError(error);
      }
      const stream = toPartStream(chunks as AsyncIterable<unknown>);
      const upstream = state.stream;
      return {
        stream,
        ...(upstream?.request ? { request: upstream.request } : {}),
        ...(upstream?.response ? { response: upstream.response } : {}),
      };
    },
  };
}
