import type OpenAI from 'openai';
import { APIPromise } from 'openai';
import type { ChatCompletion, ChatCompletionCreateParams } from 'openai/resources/chat/completions';
import type { CreateEmbeddingResponse } from 'openai/resources/embeddings';
import type { Response } from 'openai/resources/responses/responses';
import { Stream } from 'openai/streaming';
import type { CallContext } from '../core/context.ts';
import { tenantForKey } from '../core/identity.ts';
import { openAiChat, openAiEmbeddings, openAiResponses } from '../wire/index.ts';
import type { WireFormat } from '../wire/types.ts';
import type { WithAllOptions } from '../wrap/all.ts';
import { withAll } from '../wrap/all.ts';
import type { AiRequest } from '../wrap/wrap.ts';
import { toPolicyError } from './openai-errors.ts';
import { guardChunks, toSdkStream } from './openai-stream.ts';
import { withProperty } from './proxy.ts';
import { type SdkCallOptions, startSdkCall } from './sdk-call.ts';
import { guardEvents } from './stream-guard.ts';
import { toCallerError } from './translate.ts';

/** The SDK's per-request options (`headers`, `signal`, `timeout`, `maxRetries`, ...). */
export type OpenAIRequestOptions = NonNullable<Parameters<OpenAI['chat']['completions']['create']>[1]>;

type Per<T> = T | ((params: ChatCompletionCreateParams) => T);

/** Options of {@link wrapOpenAI}: the policies by role, and how calls are labelled and scoped. */
export interface WrapOpenAIOptions
  extends Omit<WithAllOptions, 'provider' | 'tenant' | 'tier' | 'serverAddress'> {
  /** gen_ai.provider.name of the calls. @default 'openai' */
  provider?: string;
  /**
   * Cache and limit scope. Clients with different API keys never share cache entries by default.
   * @default `key-<sha256 prefix of client.apiKey>`, or 'default' when the client has no key
   */
  tenant?: Per<string>;
  /** Rate-limit tier. @default 'default' */
  tier?: Per<string>;
  /** server.address on upstream spans. @default the host of `client.baseURL` */
  serverAddress?: string;
  /** Route label on metrics. @default the method: 'openai.chat.completions', 'openai.responses', 'openai.embeddings' */
  route?: string;
  /** Receives each call's context; `ctx.decisions` tells the cache status, attempts and usage. @default none */
  onContext?: (ctx: CallContext) => void;
}

type OpenAICallOptions = SdkCallOptions<OpenAIRequestOptions>;

type Answer = ChatCompletion | Response | CreateEmbeddingResponse | AsyncIterable<unknown>;
type ResponseProps = Awaited<ConstructorParameters<typeof APIPromise>[1]>;

function hostOf(baseURL: string): string | undefined {
  try {
    return new URL(baseURL).hostname || undefined;
  } catch {
    return undefined;
  }
}

function per(value: Per<string> | undefined): string | ((request: AiRequest) => string) | undefined {
  if (typeof value !== 'function') return value;
  return (request) => value(request as unknown as ChatCompletionCreateParams);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** A stand-in for the provider's `Response` when no request was made (a cache hit or a joined call). */
function answeredResponse(ctx: CallContext | undefined, stream: boolean): globalThis.Response {
  const headers = new Headers(ctx?.decisions.headers);
  headers.set('content-type', stream ? 'text/event-stream' : 'application/json');
  if (ctx?.decisions.cacheStatus) headers.set('cache-status', ctx.decisions.cacheStatus);
  return new globalThis.Response(null, { status: 200, headers });
}

function validate(client: unknown): OpenAI {
  const completions = (client as OpenAI | undefined)?.chat?.completions;
  if (typeof completions?.create !== 'function') {
    throw new TypeError(
      `wrapOpenAI: expected an OpenAI client with chat.completions.create, got ${String(client)}`,
    );
  }
  return client as OpenAI;
}

/**
 * Route an official `openai` client's `chat.completions.create()`, `responses.create()` and
 * `embeddings.create()` through alchemist policies (rate limits, then the cache, then the breaker),
 * with a request span, a GenAI CLIENT span per upstream attempt and the `alchemist.*` metrics. Each
 * method is keyed and read in its own API's format. Returns a view of the client; the client itself
 * is untouched.
 *
 * What is preserved: `create()` returns a real `APIPromise` resolving to a `ChatCompletion`, or for
 * `stream: true` to a real `Stream<ChatCompletionChunk>` (iterate it, `toReadableStream()`, `tee()`,
 * `controller.abort()`). `.withResponse()`/`.asResponse()` give the provider's `Response`, or on a
 * cache hit a stand-in carrying `Cache-Status`. Provider errors reach you as the SDK's own classes
 * (`APIError`, `RateLimitError`, ...); the policies' rejections as `CircuitOpenError`,
 * `RateLimitedError`, ... The `signal` of the request options is honoured. A `Cache-Control` header in
 * the request options (`no-cache`, `no-store`, `max-age=N`) steers the cache as it does on the gateway.
 * Other methods (`parse()`, `stream()`, `runTools()`, other resources) pass through untouched.
 *
 * @param client an `OpenAI` (or `AzureOpenAI`) instance
 * @param [options.rateLimit] limits, outermost
 * @param [options.cache] the cache
 * @param [options.breaker] breaker/retry/timeout, innermost
 * @param [options.tenant] cache and limit scope (default: a hash of the client's API key)
 * @example
 * const openai = wrapOpenAI(new OpenAI(), { cache: aiCachePolicy(), breaker: createResilience() });
 * const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
 */
/** One SDK method to wrap: how to call it, and what its calls are. */
interface MethodSpec {
  /** The SDK's own method, bound to its resource. */
  readonly call: (params: never, options?: OpenAIRequestOptions) => APIPromise<unknown>;
  /** The request path, as the SDK would log it. */
  readonly path: string;
  readonly route: string;
  readonly wire: WireFormat;
}

export function wrapOpenAI<C extends OpenAI>(client: C, options: WrapOpenAIOptions = {}): C {
  const sdk = validate(client);
  const { provider, tenant, tier, serverAddress, route, onContext, ...policies } = options;
  const apiKey = typeof sdk.apiKey === 'string' && sdk.apiKey !== '' ? sdk.apiKey : undefined;
  const defaultTenant = apiKey ? tenantForKey(apiKey) : 'default';
  const host = serverAddress ?? hostOf(sdk.baseURL);
  const timeoutOf = (requestOptions: OpenAIRequestOptions | undefined) =>
    requestOptions?.timeout ?? sdk.timeout;

  /** `create(params, requestOptions)` of one method, through the policies, as the SDK's own APIPromise. */
  function wrapMethod(spec: MethodSpec) {
    const run = withAll<AiRequest, Answer, OpenAICallOptions>(
      async function openaiCall(request, { signal, callOptions }) {
        const { requestOptions, state } = callOptions;
        try {
          const { data, response } = await spec
            .call(request as never, { ...requestOptions, signal })
            .withResponse();
          state.response = response;
          if (!(data instanceof Stream)) return data as Answer;
          const timeout = timeoutOf(requestOptions);
          return spec.wire === openAiChat
            ? guardChunks(data, signal, timeout)
            : guardEvents(data, spec.wire, signal, (error) => toPolicyError(error, timeout));
        } catch (error) {
          throw toPolicyError(error, timeoutOf(requestOptions));
        }
      },
      {
        ...policies,
        provider: provider ?? 'openai',
        tenant: per(tenant) ?? defaultTenant,
        ...(tier === undefined ? {} : { tier: per(tier) }),
        ...(host ? { serverAddress: host } : {}),
        operation: spec.wire.operation,
        wire: spec.wire,
        route: route ?? spec.route,
      },
    );

    return function create(params: AiRequest, requestOptions?: OpenAIRequestOptions) {
      const { controller, signal, state, startTime, running } = startSdkCall(
        run,
        params,
        requestOptions,
        onContext,
      );
      const outcome = running.then(
        (value) => {
          const stream = isAsyncIterable(value);
          return {
            data: stream ? toSdkStream(value, controller, signal, sdk) : value,
            response: state.response ?? answeredResponse(state.ctx, stream),
          };
        },
        (error: unknown) => {
          throw toCallerError(error);
        },
      );
      const props = outcome.then(
        ({ response }): ResponseProps => ({
          response,
          options: { method: 'post', path: spec.path, body: params, ...requestOptions },
          controller,
          requestLogID: 'alchemist-perf',
          retryOfRequestLogID: undefined,
          startTime,
        }),
      );
      return new APIPromise(sdk, props, () => outcome.then(({ data }) => data));
    };
  }

  const completions = sdk.chat.completions;
  const chat = withProperty(
    sdk.chat,
    'completions',
    withProperty(
      completions,
      'create',
      wrapMethod({
        call: completions.create.bind(completions) as MethodSpec['call'],
        path: '/chat/completions',
        route: 'openai.chat.completions',
        wire: openAiChat,
      }),
    ),
  );
  let view = withProperty(client, 'chat', chat);
  // Older SDKs (or OpenAI-compatible look-alikes) may lack a resource: wrap what is there.
  const { responses, embeddings } = sdk as Partial<Pick<OpenAI, 'responses' | 'embeddings'>>;
  if (typeof responses?.create === 'function') {
    const create = wrapMethod({
      call: responses.create.bind(responses) as MethodSpec['call'],
      path: '/responses',
      route: 'openai.responses',
      wire: openAiResponses,
    });
    view = withProperty(view, 'responses', withProperty(responses, 'create', create));
  }
  if (typeof embeddings?.create === 'function') {
    const create = wrapMethod({
      call: embeddings.create.bind(embeddings) as MethodSpec['call'],
      path: '/embeddings',
      route: 'openai.embeddings',
      wire: openAiEmbeddings,
    });
    view = withProperty(view, 'embeddings', withProperty(embeddings, 'create', create));
  }
  return view;
}
