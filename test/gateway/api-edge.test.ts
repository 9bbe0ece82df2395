import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/core/errors.ts';
import { jsonResult, streamResult } from '../../src/core/result.ts';
import { parseSse } from '../../src/core/sse.ts';
import {
  ATTR_REQUEST_ID,
  apiEdge,
  recordProviderRequestId,
  requestIdHeaders,
  requestIdOnSpan,
} from '../../src/gateway/api-edge.ts';
import { aiContext } from '../../src/hono/context.ts';
import { aiErrorHandler } from '../../src/hono/error-handler.ts';
import { aiHandler } from '../../src/hono/handler.ts';
import { anthropicMessages, openAiChat, openAiResponses } from '../../src/wire/index.ts';
import type { WireFormat } from '../../src/wire/types.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

const telemetry = useTestTelemetry();

/** The gateway's layering for one route, with a fake upstream. */
function app(wire: WireFormat, call: Parameters<typeof aiHandler>[0]) {
  const app = new Hono();
  app.onError(aiErrorHandler());
  app.use('/api', apiEdge(wire), aiContext({ wire }), requestIdOnSpan());
  app.post('/api', aiHandler(call, [], { headers: requestIdHeaders }));
  return app;
}

const post = (target: Hono, body: unknown, headers: Record<string, string> = {}) =>
  target.request('/api', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-edge', ...headers },
    body: JSON.stringify(body),
  });

async function events(response: Response) {
  const found = [];
  for await (const event of parseSse(response.body!)) found.push(event);
  return found;
}

describe('apiEdge: each route answers in its own API shape', () => {
  it('names every Messages event, drops [DONE], and ends a failed stream with an Anthropic error event', async () => {
    const target = app(anthropicMessages, async () =>
      streamResult(
        (async function* () {
          yield {
            type: 'message_start',
            message: { id: 'msg_1', model: 'claude', usage: { input_tokens: 1 } },
          };
          yield { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } };
          throw new UpstreamError('Provider overloaded mid-stream', 529);
        })(),
      ),
    );
    const response = await post(target, { model: 'claude', max_tokens: 8, messages: [] });
    const found = await events(response);
    expect(found.map((event) => event.event)).toEqual(['message_start', 'content_block_delta', 'error']);
    expect(JSON.parse(found[2]!.data)).toEqual({
      type: 'error',
      error: { type: 'api_error', message: expect.any(String) },
    });
    expect(found.some((event) => event.data === '[DONE]')).toBe(false);
  });

  it('ends a completed Responses stream with its last event, no [DONE]', async () => {
    const target = app(openAiResponses, async () =>
      streamResult(
        (async function* () {
          yield { type: 'response.created', sequence_number: 0, response: { id: 'resp_1' } };
          yield { type: 'response.completed', sequence_number: 1, response: { id: 'resp_1' } };
        })(),
      ),
    );
    const found = await events(await post(target, { model: 'gpt', input: 'hi', stream: true }));
    expect(found).toEqual([
      {
        event: 'response.created',
        data: '{"type":"response.created","sequence_number":0,"response":{"id":"resp_1"}}',
      },
      {
        event: 'response.completed',
        data: '{"type":"response.completed","sequence_number":1,"response":{"id":"resp_1"}}',
      },
    ]);
  });

  it("renders the pipeline's own errors in Anthropic's shape on a Messages route, OpenAI's elsewhere", async () => {
    const anthropic = app(anthropicMessages, async () => jsonResult({}));
    const invalid = await anthropic.request('/api', {
      method: 'POST',
      body: 'not json',
      headers: { authorization: 'Bearer k' },
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'Request body is not valid JSON' },
    });
    const chat = app(openAiChat, async () => jsonResult({}));
    const same = await chat.request('/api', {
      method: 'POST',
      body: 'not json',
      headers: { authorization: 'Bearer k' },
    });
    expect(await same.json()).toEqual({
      error: {
        message: 'Request body is not valid JSON',
        type: 'invalid_request_error',
        code: 'invalid_json',
      },
    });
  });

  it("gives every answer an x-request-id: the provider's when it sent one, else the gateway's own, also on the span", async () => {
    telemetry.reset();
    // As the gateway's proxy does with the provider's id.
    const upstream = app(openAiChat, async (ctx) => {
      recordProviderRequestId(ctx, 'req_provider_1');
      return jsonResult({ choices: [] }, 200, { 'x-request-id': 'req_provider_1' });
    });
    const answered = await post(upstream, { model: 'gpt', messages: [{ role: 'user', content: 'x' }] });
    expect(answered.headers.get('x-request-id')).toBe('req_provider_1');
    const own = app(anthropicMessages, async () => jsonResult({ type: 'message' }));
    const mine = await post(own, { model: 'claude', max_tokens: 8, messages: [] });
    const id = mine.headers.get('x-request-id');
    expect(id).toMatch(/^req_[0-9a-f]{32}$/);
    // The Anthropic SDK reads request-id.
    expect(mine.headers.get('request-id')).toBe(id);
    const rejected = await own.request('/api', { method: 'POST', body: '{' });
    expect(rejected.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
    const spans = telemetry.spans().filter((span) => span.name === 'POST /api');
    expect(spans.map((span) => span.attributes[ATTR_REQUEST_ID])).toContain(id);
  });
});
