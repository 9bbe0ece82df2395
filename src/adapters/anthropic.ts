import type Anthropic from '@anthropic-ai/sdk';
import {
  AnthropicError,
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIPromise,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { Stream } from '@anthropic-ai/sdk/streaming';
import type { CallContext } from '../core/context.ts';
import { UpstreamError, UpstreamTimeoutError } from '../core/errors.ts';
import { tenantForKey } from '../core/identity.ts';
import { retryAfterSeconds } from '../wire/http.ts';
import { anthropicMessages } from '../wire/index.ts';
import type { WithAllOptions } from '../wrap/all.ts';
import { withAll } from '../wrap/all.ts';
import type { AiRequest } from '../wrap/wrap.ts';
import { withProperty } from './proxy.ts';
import { type SdkCallOptions, startSdkCall } from './sdk-call.ts';
import { guardEvents } from './stream-guard.ts';
import { toCallerError, translated } from './translate.ts';

type Messages = Anthropic['messages'];
/** The SDK's per-request options (`headers`, `signal`, `timeout`, `maxRetries`, ...). */
export type AnthropicRequestOptions = NonNullable<Parameters<Messages['create']>[1]>;
type ResponseProps = Awaited<ConstructorParameters<typeof APIPromise>[1]>;

/** Options of {@link wrapAnthropic}: the policies by role, and how calls are labelled and scoped. */
export interface WrapAnthropicOptions
  extends Omit<WithAllOptions, 'provider' | 'tenant' | 'tier' | 'serverAddress'> {
  /** Cache and limit scope. @default `key-<sha256 prefix of client.apiKey>`, or 'default' without a key */
  tenant?: string;
  /** Rate-limit tier. @default 'default' */
  tier?: string;
  /** server.address on upstream spans. @default the host of `client.baseURL` */
  serverAddress?: string;
  /** Route label on metrics. @default 'anthropic.messages' */
  route?: string;
  /** Receives each call's context; `ctx.decisions` tells the cache status, attempts and usage. @default none */
  onContext?: (ctx: CallContext) => void;
}

type AnthropicCallOptions = SdkCallOptions<AnthropicRequestOptions>;

/** The SDK's error as the policies understand it (as `toPolicyError` does for openai-node). */
function toPolicyError(error: unknown, timeoutMs: number): unknown {
  if (!(error instanceof AnthropicError) || error instanceof APIUserAbortError) return error;
  let mapped: Error | undefined;
  if (error instanceof APIConnectionTimeoutError)
    mapped = new UpstreamTimeoutError('total', timeoutMs, { cause: error });
  else if (error instanceof APIConnectionError)
    mapped = new UpstreamError('Connection to the provider failed', 0, { cause: error });
  else if (error instanceof APIError) {
    const status = typeof error.status === 'number' ? error.status : 0;
    const retryAfter = retryAfterSeconds(error.headers);
    mapped = new UpstreamError(
      status ? `Provider answered ${status}` : 'Provider stream reported an error',
      status,
      retryAfter === undefined ? { cause: error } : { cause: error, retryAfter },
    );
  }
  return mapped ? translated(mapped) : error;
}

function hostOf(baseURL: string): string | undefined {
  try {
    return new URL(baseURL).hostname || undefined;
  } catch {
    return undefined;
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * Route an `@anthropic-ai/sdk` client's `messages.create()` (JSON and `stream: true`) through alchemist
 * policies (rate limits, then the cache, then the breaker), read in the Messages format (usage with
 * prompt-cache reads and writes, `stop_reason`, `message_stop`), with a request span, a GenAI CLIENT
 * span per attempt and the `alchemist.*` metrics. Returns a view of the client; the client is untouched.
 * `create()` returns the SDK's own `APIPromise` (`.withResponse()` works; on a cache hit the response
 * is a stand-in carrying `Cache-Status`), streams are the SDK's own `Stream`, provider errors its own
 * classes. `messages.stream()` and the other resources pass through untouched.
 *
 * @example
 * const anthropic = wrapAnthropic(new Anthropic(), { cache: aiCachePolicy(), breaker: createResilience() });
 * const message = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, messages });
 */
export function wrapAnthropic<C extends Anthropic>(client: C, options: WrapAnthropicOptions = {}): C {
  const messages = (client as Anthropic | undefined)?.messages;
  if (typeof messages?.create !== 'function') {
    throw new TypeError(
      `wrapAnthropic: expected an Anthropic client with messages.create, got ${String(client)}`,
    );
  }
  const { tenant, tier, serverAddress, route, onContext, ...policies } = options;
  const apiKey = typeof client.apiKey === 'string' && client.apiKey !== '' ? client.apiKey : undefined;
  const host = serverAddress ?? hostOf(client.baseURL);
  const timeoutOf = (requestOptions: AnthropicRequestOptions | undefined) =>
    requestOptions?.timeout ?? client.timeout;

  const run = withAll<AiRequest, unknown, AnthropicCallOptions>(
    async function anthropicMessagesCreate(request, { signal, callOptions }) {
      const { requestOptions, state } = callOptions;
      try {
        const { data, response } = await messages
          .create(request as unknown as Anthropic.MessageCreateParams, { ...requestOptions, signal })
          .withResponse();
        state.response = response;
        return data instanceof Stream
          ? guardEvents(
              data,
              anthropicMessages,
              signal,
              (error) => toPolicyError(error, timeoutOf(requestOptions)),
              'message_stop',
            )
          : data;
      } catch (error) {
        throw toPolicyError(error, timeoutOf(requestOptions));
      }
    },
    {
      ...policies,
      provider: 'anthropic',
      tenant: tenant ?? (apiKey ? tenantForKey(apiKey) : 'default'),
      ...(tier === undefined ? {} : { tier }),
      ...(host ? { serverAddress: host } : {}),
      operation: 'chat',
      wire: anthropicMessages,
      route: route ?? 'anthropic.messages',
    },
  );

  function create(params: Anthropic.MessageCreateParams, requestOptions?: AnthropicRequestOptions) {
    const { controller, signal, state, startTime, running } = startSdkCall(
      run,
      params as unknown as AiRequest,
      requestOptions,
      onContext,
    );
    const outcome = running.then(
      (value) => {
        const stream = isAsyncIterable(value);
        let data: unknown = value;
        if (stream) {
          // The SDK's own Stream over the chunks the policies passed on (iterate once, `controller`).
          const chunks = value;
          data = new Stream(
            async function* () {
              try {
                yield* chunks;
              } catch (error) {
                if (signal.aborted) return;
                throw toCallerError(error);
              }
            },
            controller,
            client,
          );
        }
        const headers = new Headers(state.ctx?.decisions.headers);
        headers.set('content-type', stream ? 'text/event-stream' : 'application/json');
        if (state.ctx?.decisions.cacheStatus) headers.set('cache-status', state.ctx.decisions.cacheStatus);
        return { data, response: state.response ?? new Response(null, { status: 200, headers }) };
      },
      (error: unknown) => {
        throw toCallerError(error);
      },
    );
    const props = outcome.then(
      ({ response }): ResponseProps => ({
        response,
        options: { method: 'post', path: '/v1/messages', body: params, ...requestOptions },
        controller,
        requestLogID: 'alchemist-perf',
        retryOfRequestLogID: undefined,
        startTime,
      }),
    );
    return new APIPromise(client, props, () => outcome.then(({ data }) => data as never));
  }

  return withProperty(client, 'messages', withProperty(messages, 'create', create));
}
