import type { CallContext } from '../../core/context.ts';
import { BadRequestError, UpstreamError } from '../../core/errors.ts';
import { redactExcerpt } from '../../core/redact.ts';
import type { AiResult } from '../../core/result.ts';
import { jsonResult, streamResult } from '../../core/result.ts';
import type { WireFormat } from '../../wire/types.ts';
import type { ProviderConfig } from '../config/types.ts';
import { fromAnthropicMessage, fromAnthropicStream, toAnthropicRequest } from './anthropic-mapping.ts';
import {
  capacityHeaders,
  endpoint,
  parseEventJson,
  postJson,
  providerEvents,
  readJson,
  upstreamHeaders,
} from './http.ts';
import type { Provider } from './types.ts';

/** The Messages API version the chat mapping speaks. https://docs.anthropic.com/en/api/versioning */
export const ANTHROPIC_VERSION = '2023-06-01';

/** An `error` event as the upstream error it is (429 and 529 keep their status for the breaker). */
function streamError(provider: string, event: Record<string, unknown>): UpstreamError {
  const error = (event.error ?? {}) as Record<string, unknown>;
  const status = error.type === 'overloaded_error' ? 529 : error.type === 'rate_limit_error' ? 429 : 0;
  const message = typeof error.message === 'string' ? redactExcerpt(error.message) : 'error event';
  return new UpstreamError(`Provider '${provider}' failed mid-stream: ${message}`, status);
}

/** Messages events passed through as they are (pings dropped), up to `message_stop`. */
async function* messagesEvents(
  provider: string,
  wire: WireFormat,
  events: AsyncIterable<{ event?: string; data: string }>,
): AsyncGenerator<Record<string, unknown>> {
  const reader = wire.streamReader();
  for await (const event of events) {
    const data = parseEventJson(provider, event);
    if (data.type === 'ping') continue;
    if (data.type === 'error') throw streamError(provider, data);
    reader.read(data);
    yield data;
    if (reader.sawEnd) return;
  }
  throw new UpstreamError(`Provider '${provider}' ended the stream before message_stop`, 0);
}

/**
 * An Anthropic provider (`POST {base_url}/v1/messages`): Messages calls go as they are (with the
 * client's `anthropic-version` and `anthropic-beta`), OpenAI chat calls are translated to Messages
 * and the reply or stream back to the OpenAI shape.
 */
export function createAnthropicProvider(
  config: ProviderConfig,
  timeoutMs: number,
  baseUrl = config.baseUrl,
  propagate = true,
): Provider {
  const url = new URL(`${baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/messages`);
  const target = endpoint(url, { connections: config.connections, timeoutMs, propagate });
  const { pool, serverAddress, serverPort } = target;

  return {
    name: config.name,
    type: 'anthropic',
    serverAddress,
    serverPort,
    simulated: config.simulated,
    async call(ctx: CallContext): Promise<AiResult> {
      const api = ctx.wire.api;
      if (api !== 'anthropic.messages' && api !== 'openai.chat') {
        throw new BadRequestError(
          `Model '${ctx.model}' is served by an Anthropic provider, which has no ${api} API`,
          'unsupported_api',
        );
      }
      const passThrough = api === 'anthropic.messages';
      const body = JSON.stringify(
        passThrough
          ? { ...ctx.request, model: ctx.model }
          : toAnthropicRequest(ctx.request, ctx.model, ctx.stream),
      );
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: ctx.stream ? 'text/event-stream' : 'application/json',
        'anthropic-version': ANTHROPIC_VERSION,
        // The client's own version and betas, on the calls it wrote in the Messages shape.
        ...(passThrough ? ctx.forwardHeaders : {}),
      };
      const key = config.apiKey?.reveal();
      if (key) headers['x-api-key'] = key;
      const response = await postJson(config.name, target, { headers, body }, timeoutMs, ctx.signal);
      const kept = { ...capacityHeaders(response.headers), ...upstreamHeaders(response.headers) };
      const created = Math.floor(Date.now() / 1000);
      if (ctx.stream && String(response.headers['content-type'] ?? '').includes('text/event-stream')) {
        const events = providerEvents(config.name, response.body, timeoutMs, ctx.signal);
        if (passThrough) return streamResult(messagesEvents(config.name, ctx.wire, events), 200, kept);
        const parsed = (async function* () {
          for await (const event of events) yield { data: parseEventJson(config.name, event) };
        })();
        return streamResult(fromAnthropicStream(config.name, parsed, created), 200, kept);
      }
      const reply = await readJson(config.name, response, timeoutMs, ctx.signal);
      if (passThrough) {
        const message = reply as { type?: unknown } | null;
        if (message?.type !== 'message') {
          throw new UpstreamError(
            `Provider '${config.name}' sent a reply that is not a Messages API message`,
            0,
          );
        }
        return jsonResult(reply, 200, kept);
      }
      return jsonResult(fromAnthropicMessage(config.name, reply, created), 200, kept);
    },
    close: () => pool.close(),
  };
}
