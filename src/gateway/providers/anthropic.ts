import type { CallContext } from '../../core/context.ts';
import type { AiResult } from '../../core/result.ts';
import { jsonResult, streamResult } from '../../core/result.ts';
import type { ProviderConfig } from '../config/types.ts';
import { fromAnthropicMessage, fromAnthropicStream, toAnthropicRequest } from './anthropic-mapping.ts';
import { capacityHeaders, endpoint, parseEventJson, postJson, providerEvents, readJson } from './http.ts';
import type { Provider } from './types.ts';

/** The Messages API version this mapping speaks. https://docs.anthropic.com/en/api/versioning */
export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * An Anthropic provider: the client's OpenAI chat request is translated to the Messages API
 * (`POST {base_url}/v1/messages`), and the reply or stream back to the OpenAI shape.
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
      const body = JSON.stringify(toAnthropicRequest(ctx.request, ctx.model, ctx.stream));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: ctx.stream ? 'text/event-stream' : 'application/json',
        'anthropic-version': ANTHROPIC_VERSION,
      };
      const key = config.apiKey?.reveal();
      if (key) headers['x-api-key'] = key;
      const response = await postJson(config.name, target, { headers, body }, timeoutMs, ctx.signal);
      const created = Math.floor(Date.now() / 1000);
      if (ctx.stream && String(response.headers['content-type'] ?? '').includes('text/event-stream')) {
        const events = providerEvents(config.name, response.body, timeoutMs, ctx.signal);
        const parsed = (async function* () {
          for await (const event of events) yield { data: parseEventJson(config.name, event) };
        })();
        return streamResult(
          fromAnthropicStream(config.name, parsed, created),
          200,
          capacityHeaders(response.headers),
        );
      }
      return jsonResult(
        fromAnthropicMessage(
          config.name,
          await readJson(config.name, response, timeoutMs, ctx.signal),
          created,
        ),
        200,
        capacityHeaders(response.headers),
      );
    },
    close: () => pool.close(),
  };
}
