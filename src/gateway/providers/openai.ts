import type { CallContext } from '../../core/context.ts';
import { UpstreamError } from '../../core/errors.ts';
import { redactExcerpt } from '../../core/redact.ts';
import type { AiResult } from '../../core/result.ts';
import { jsonResult, streamResult } from '../../core/result.ts';
import { SSE_DONE } from '../../core/sse.ts';
import type { ProviderConfig } from '../config/types.ts';
import { capacityHeaders, endpoint, parseEventJson, postJson, providerEvents, readJson } from './http.ts';
import type { Provider } from './types.ts';

function upstreamBody(ctx: CallContext): string {
  // A fallback may have changed the model: the context's model is the one to send.
  const body: Record<string, unknown> = { ...ctx.request, model: ctx.model };
  if (ctx.stream) {
    // Ask for the final usage chunk so token limits settle on real usage and cost is recorded.
    const options = (body.stream_options as Record<string, unknown> | undefined) ?? {};
    body.stream_options = { ...options, include_usage: true };
  }
  return JSON.stringify(body);
}

async function* openAiChunks(
  name: string,
  events: AsyncIterable<{ data: string }>,
): AsyncGenerator<Record<string, unknown>> {
  for await (const event of events) {
    if (event.data === SSE_DONE) return;
    const chunk = parseEventJson(name, event);
    if (chunk.error !== undefined) {
      const message = (chunk.error as { message?: unknown }).message;
      throw new UpstreamError(
        `Provider '${name}' failed mid-stream${typeof message === 'string' ? `: ${redactExcerpt(message)}` : ''}`,
        0,
      );
    }
    yield chunk;
  }
  throw new UpstreamError(`Provider '${name}' ended the stream before [DONE]`, 0);
}

/**
 * An OpenAI-compatible provider (`POST {base_url}/chat/completions`): OpenAI, Azure-style proxies,
 * vLLM, Ollama, LiteLLM... The body is forwarded as is (model from the context), the provider key
 * replaces the client's.
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

  return {
    name: config.name,
    type: 'openai',
    serverAddress,
    serverPort,
    simulated: config.simulated,
    async call(ctx: CallContext): Promise<AiResult> {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: ctx.stream ? 'text/event-stream' : 'application/json',
      };
      const key = config.apiKey?.reveal();
      if (key) headers.authorization = `Bearer ${key}`;
      const response = await postJson(
        config.name,
        target,
        { headers, body: upstreamBody(ctx) },
        timeoutMs,
        ctx.signal,
      );
      const type = String(response.headers['content-type'] ?? '');
      if (ctx.stream && type.includes('text/event-stream')) {
        return streamResult(
          openAiChunks(config.name, providerEvents(config.name, response.body, timeoutMs, ctx.signal)),
          200,
          capacityHeaders(response.headers),
        );
      }
      const body = await readJson(config.name, response, timeoutMs, ctx.signal);
      if (
        typeof body !== 'object' ||
        body === null ||
        !Array.isArray((body as { choices?: unknown }).choices)
      ) {
        throw new UpstreamError(`Provider '${config.name}' sent a reply without choices`, 0);
      }
      return jsonResult(body, 200, capacityHeaders(response.headers));
    },
    close: () => pool.close(),
  };
}
