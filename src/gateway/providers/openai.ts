import type { CallContext } from '../../core/context.ts';
import { UpstreamError } from '../../core/errors.ts';
import { redactExcerpt } from '../../core/redact.ts';
import type { AiResult } from '../../core/result.ts';
import { jsonResult, streamResult } from '../../core/result.ts';
import { SSE_DONE } from '../../core/sse.ts';
import type { WireApi, WireFormat } from '../../wire/types.ts';
import type { ProviderConfig } from '../config/types.ts';
import {
  capacityHeaders,
  endpoint,
  parseEventJson,
  postJson,
  providerEvents,
  readJson,
  upstreamHeaders,
} from './http.ts';
import { fromChatCompletion, fromChatStream, toChatRequest } from './messages-mapping.ts';
import type { Provider } from './types.ts';

/** The path (under the base URL, which ends in `/v1`) of each API; Messages are sent as chat. */
const PATHS: Record<WireApi, string> = {
  'openai.chat': '/chat/completions',
  'openai.responses': '/responses',
  'openai.embeddings': '/embeddings',
  'openai.completions': '/completions',
  'anthropic.messages': '/chat/completions',
};

/** What a successful JSON answer of each API must hold (anything else is a bad reply, 502). */
function looksRight(api: WireApi, body: unknown): boolean {
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
  if (!fields) return false;
  if (api === 'openai.responses') return fields.object === 'response' || Array.isArray(fields.output);
  if (api === 'openai.embeddings') return Array.isArray(fields.data);
  return Array.isArray(fields.choices);
}

function upstreamBody(ctx: CallContext): string {
  if (ctx.wire.api === 'anthropic.messages')
    return JSON.stringify(toChatRequest(ctx.request, ctx.model, ctx.stream));
  // A fallback may have changed the model: the context's model is the one to send.
  const body: Record<string, unknown> = { ...ctx.request, model: ctx.model };
  if (ctx.stream && (ctx.wire.api === 'openai.chat' || ctx.wire.api === 'openai.completions')) {
    // Ask for the final usage chunk so token limits settle on real usage and cost is recorded (the
    // gateway drops it again for clients that did not ask, see `usageChunkWhenAsked`).
    const options = (body.stream_options as Record<string, unknown> | undefined) ?? {};
    body.stream_options = { ...options, include_usage: true };
  }
  return JSON.stringify(body);
}

function failedMidStream(name: string, chunk: Record<string, unknown>): UpstreamError {
  const error = (chunk.error ?? chunk) as { message?: unknown };
  const message = error.message;
  return new UpstreamError(
    `Provider '${name}' failed mid-stream${typeof message === 'string' ? `: ${redactExcerpt(message)}` : ''}`,
    0,
  );
}

/** Chat and legacy completion chunks, up to `data: [DONE]`. */
async function* doneTerminatedChunks(
  name: string,
  events: AsyncIterable<{ data: string }>,
): AsyncGenerator<Record<string, unknown>> {
  for await (const event of events) {
    if (event.data === SSE_DONE) return;
    const chunk = parseEventJson(name, event);
    if (chunk.error !== undefined) throw failedMidStream(name, chunk);
    yield chunk;
  }
  throw new UpstreamError(`Provider '${name}' ended the stream before [DONE]`, 0);
}

/** Named events (Responses), up to the connection's end, which must come after the API's end event. */
async function* namedEvents(
  name: string,
  wire: WireFormat,
  events: AsyncIterable<{ event?: string; data: string }>,
): AsyncGenerator<Record<string, unknown>> {
  const reader = wire.streamReader();
  for await (const event of events) {
    if (event.data === SSE_DONE) break;
    const chunk = parseEventJson(name, event);
    if (event.event === 'error' || chunk.type === 'error') throw failedMidStream(name, chunk);
    reader.read(chunk);
    yield chunk;
  }
  if (!reader.sawEnd) throw new UpstreamError(`Provider '${name}' ended the stream before its end event`, 0);
}

/**
 * An OpenAI-compatible provider (`POST {base_url}/chat/completions`, `/responses`, `/embeddings`,
 * `/completions`): OpenAI, Azure-style proxies, vLLM, Ollama, LiteLLM... The body is forwarded as is
 * (model from the context), the provider key replaces the client's. Anthropic Messages calls are
 * translated to chat and back (JSON and stream).
 */
export function createOpenAiProvider(
  config: ProviderConfig,
  timeoutMs: number,
  baseUrl = config.baseUrl,
  propagate = true,
): Provider {
  const url = new URL(`${baseUrl.replace(/\/+$/, '')}/chat/completions`);
  const target = endpoint(url, { connections: config.connections, timeoutMs, propagate });
  const { pool, serverAddress, serverPort } = target;
  const basePath = target.path.replace(/\/chat\/completions$/, '');

  return {
    name: config.name,
    type: 'openai',
    serverAddress,
    serverPort,
    simulated: config.simulated,
    async call(ctx: CallContext): Promise<AiResult> {
      const api = ctx.wire.api;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: ctx.stream ? 'text/event-stream' : 'application/json',
      };
      const key = config.apiKey?.reveal();
      if (key) headers.authorization = `Bearer ${key}`;
      const response = await postJson(
        config.name,
        { ...target, path: `${basePath}${PATHS[api]}` },
        { headers, body: upstreamBody(ctx) },
        timeoutMs,
        ctx.signal,
      );
      const kept = { ...capacityHeaders(response.headers), ...upstreamHeaders(response.headers) };
      const type = String(response.headers['content-type'] ?? '');
      if (ctx.stream && type.includes('text/event-stream')) {
        const events = providerEvents(config.name, response.body, timeoutMs, ctx.signal);
        const chunks =
          api === 'openai.responses'
            ? namedEvents(config.name, ctx.wire, events)
            : doneTerminatedChunks(config.name, events);
        return streamResult(
          api === 'anthropic.messages' ? fromChatStream(config.name, chunks) : chunks,
          200,
          kept,
        );
      }
      const body = await readJson(config.name, response, timeoutMs, ctx.signal);
      if (!looksRight(api === 'anthropic.messages' ? 'openai.chat' : api, body)) {
        throw new UpstreamError(
          `Provider '${config.name}' sent a reply that is not a ${PATHS[api]} answer`,
          0,
        );
      }
      return jsonResult(
        api === 'anthropic.messages' ? fromChatCompletion(config.name, body) : body,
        200,
        kept,
      );
    },
    close: () => pool.close(),
  };
}
