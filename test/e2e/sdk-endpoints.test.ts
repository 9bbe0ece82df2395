import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createOpenAI } from '@ai-sdk/openai';
import Anthropic from '@anthropic-ai/sdk';
import { embed, generateText, jsonSchema, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSse } from '../../src/core/sse.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway.ts';

// Every API route driven by the real SDKs (openai, @anthropic-ai/sdk, ai + @ai-sdk/openai) through a
// gateway process in front of the simulator: JSON, streams, cache hits replayed in the same shape,
// tools both ways, and the SDKs' own error classes for 401 and 429.

const KEY = 'sk-client-sdk-5e6f7a8b';
const TINY_KEY = 'sk-client-tiny-1a2b3c4d';
const PROVIDER_KEY = 'sk-provider-sdk-9f8e7d6c';

let sim: Simulator;
let gw: GatewayProcess;
/** An Anthropic upstream that records the headers it was sent and answers one canned Message. */
let capture: Server;
const captured: IncomingHttpHeaders[] = [];
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  sim = await startSimulator({ apiKey: PROVIDER_KEY });
  capture = createServer((req, res) => {
    captured.push(req.headers);
    req.resume().on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'req_capture_1' });
      res.end(
        JSON.stringify({
          id: 'msg_capture',
          type: 'message',
          role: 'assistant',
          model: 'claude-capture',
          content: [{ type: 'text', text: 'captured' }],
          stop_reason: 'end_turn',
          stop_sequence: null,
          usage: { input_tokens: 3, output_tokens: 1 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => capture.listen(0, '127.0.0.1', resolve));
  const captureUrl = `http://127.0.0.1:${(capture.address() as AddressInfo).port}`;
  gw = await startGateway({
    name: 'gateway-sdk-endpoints',
    env: { SIM_KEY: PROVIDER_KEY },
    config: `
[cache]
default_ttl = 600
[rate_limit]
default_tier = "standard"
[tiers.standard]
requests_per_minute = 100000
[tiers.tiny]
requests_per_minute = 1
[[api_keys]]
key = "${KEY}"
tenant = "team-sdk"
tier = "standard"
[[api_keys]]
key = "${TINY_KEY}"
tenant = "team-tiny"
tier = "tiny"
[providers.openai]
type = "openai"
base_url = "${sim.url}/v1"
api_key_env = "SIM_KEY"
[providers.claude]
type = "anthropic"
base_url = "${sim.url}"
api_key_env = "SIM_KEY"
[ai_models.claude-3-haiku]
provider = "claude"
[providers.capture]
type = "anthropic"
base_url = "${captureUrl}"
api_key_env = "SIM_KEY"
[ai_models.claude-capture]
provider = "capture"
[breaker]
max_retries = 0
`,
  });
  openai = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY, maxRetries: 0 });
  // The Anthropic SDK appends /v1/messages itself: its base URL has no /v1.
  anthropic = new Anthropic({ baseURL: gw.url, apiKey: KEY, maxRetries: 0 });
});

afterAll(async () => {
  await gw?.stop();
  await sim?.close();
  capture?.close();
});

const weatherSchema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };

describe('POST /v1/embeddings', () => {
  it('serves openai-node (base64 by default) and the AI SDK (floats) from separate cache entries', async () => {
    const input = 'embeddings are the most cacheable traffic';
    const first = await openai.embeddings.create({ model: 'text-embedding-3-small', input }).withResponse();
    expect(first.response.headers.get('cache-status')).toBe('alchemist-perf; fwd=miss; stored');
    expect(first.data.data[0]!.embedding).toHaveLength(1536);
    const again = await openai.embeddings.create({ model: 'text-embedding-3-small', input }).withResponse();
    expect(again.response.headers.get('cache-status')).toMatch(/^alchemist-perf; hit; ttl=\d+$/);
    expect(again.data.data[0]!.embedding).toEqual(first.data.data[0]!.embedding);

    const provider = createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY });
    const viaAiSdk = await embed({
      model: provider.embedding('text-embedding-3-small'),
      value: input,
      maxRetries: 0,
    });
    // A float request never gets the base64 body (the AI SDK would reject it): its own miss.
    expect(viaAiSdk.response?.headers?.['cache-status']).toBe('alchemist-perf; fwd=miss; stored');
    expect(viaAiSdk.embedding).toEqual(first.data.data[0]!.embedding);
    expect(sim.stats().byApi.embeddings).toBe(2);
  });

  it('keys on dimensions and rejects a bad input with a clear 400', async () => {
    const small = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'dims',
      dimensions: 4,
    });
    expect(small.data[0]!.embedding).toHaveLength(4);
    const wider = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'dims',
      dimensions: 8,
    });
    expect(wider.data[0]!.embedding).toHaveLength(8);
    const error = await openai.embeddings
      .create({ model: 'text-embedding-3-small', input: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toMatch(/'input' must be/);
  });
});

describe('POST /v1/responses', () => {
  it('answers JSON, then replays it from cache with the same id', async () => {
    const first = await openai.responses
      .create({ model: 'gpt-4o-mini', input: 'Responses JSON' })
      .withResponse();
    expect(first.data.output_text.length).toBeGreaterThan(0);
    expect(first.response.headers.get('x-request-id')).toMatch(/^req_sim/);
    const hit = await openai.responses
      .create({ model: 'gpt-4o-mini', input: 'Responses JSON' })
      .withResponse();
    expect(hit.response.headers.get('cache-status')).toMatch(/hit/);
    expect(hit.data.id).toBe(first.data.id);
    // No provider answered the hit: the id is the gateway's own.
    expect(hit.response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it('streams the event sequence responses.stream() accepts, and replays it event for event', async () => {
    const run = async () => {
      const raw = await fetch(`${gw.url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', input: 'Responses stream', stream: true }),
      });
      const events = [];
      for await (const event of parseSse(raw.body!)) events.push(event);
      return { status: raw.headers.get('cache-status'), events };
    };
    const first = await run();
    const replay = await run();
    expect(first.status).toBe('alchemist-perf; fwd=miss');
    expect(replay.status).toMatch(/hit/);
    expect(replay.events).toEqual(first.events);
    expect(first.events.every((e) => e.event === JSON.parse(e.data).type)).toBe(true);
    expect(first.events.some((e) => e.data === '[DONE]')).toBe(false);

    // The strict helper: the first event must be response.created, no event of ours may appear.
    const stream = openai.responses.stream({ model: 'gpt-4o-mini', input: 'Responses stream' });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(first.events.map((e) => e.event));
    const json = await openai.responses.create({ model: 'gpt-4o-mini', input: 'Responses stream' });
    expect((await stream.finalResponse()).output_text).toBe(json.output_text);
  });

  it('keeps previous_response_id in the key and round-trips a function call', async () => {
    const tools = [
      { type: 'function' as const, name: 'get_weather', parameters: weatherSchema, strict: false },
    ];
    const first = await openai.responses.create({ model: 'gpt-4o-mini', input: 'Weather in Oslo?', tools });
    const call = first.output.find(
      (item) => item.type === 'function_call',
    ) as OpenAI.Responses.ResponseFunctionToolCall;
    expect(call.name).toBe('get_weather');
    const answer = await openai.responses
      .create({
        model: 'gpt-4o-mini',
        previous_response_id: first.id,
        input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temp":3}' }],
        tools,
      })
      .withResponse();
    expect(answer.data.output_text.length).toBeGreaterThan(0);
    const chained = await openai.responses
      .create({
        model: 'gpt-4o-mini',
        previous_response_id: 'resp_other',
        input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"temp":3}' }],
        tools,
      })
      .withResponse();
    expect(chained.response.headers.get('cache-status')).toBe('alchemist-perf; fwd=miss; stored');
  });

  it('serves the AI SDK default model (the Responses API), generateText and streamText', async () => {
    const provider = createOpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY });
    const generated = await generateText({
      model: provider('gpt-4o-mini'),
      prompt: 'AI SDK via responses',
      maxRetries: 0,
    });
    expect(generated.text.length).toBeGreaterThan(0);
    expect(generated.usage.outputTokens).toBeGreaterThan(0);
    const streamed = streamText({
      model: provider('gpt-4o-mini'),
      prompt: 'AI SDK via responses',
      maxRetries: 0,
    });
    expect(await streamed.text).toBe(generated.text);
    const withTool = await generateText({
      model: provider('gpt-4o-mini'),
      prompt: 'Weather in Rome?',
      tools: { get_weather: tool({ inputSchema: jsonSchema<{ city: string }>(weatherSchema as never) }) },
      maxRetries: 0,
    });
    expect(withTool.toolCalls[0]).toMatchObject({
      toolName: 'get_weather',
      input: { city: expect.any(String) },
    });
  });
});

describe('POST /v1/completions (legacy)', () => {
  it('answers JSON and streams with the same text', async () => {
    const json = await openai.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Once upon a time',
    });
    const stream = await openai.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Once upon a time',
      stream: true,
    });
    let text = '';
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]!.text;
    }
    expect(text).toBe(json.choices[0]!.text);
    expect(chunks.some((chunk) => chunk.choices.length === 0)).toBe(false);
  });
});

describe('POST /v1/messages', () => {
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Hello from the Anthropic SDK' }];

  for (const model of ['claude-3-haiku', 'gpt-4o-mini']) {
    const how = model.startsWith('claude')
      ? 'as is to the Anthropic provider'
      : 'translated for an OpenAI provider';
    it(`answers JSON and messages.stream() (${how}), replaying the stream from cache`, async () => {
      const json = await anthropic.messages.create({ model, max_tokens: 64, messages }).withResponse();
      expect(json.data.type).toBe('message');
      expect(json.data.content[0]).toMatchObject({ type: 'text', text: expect.any(String) });
      expect(json.response.headers.get('request-id')).toBe(json.response.headers.get('x-request-id'));
      const hit = await anthropic.messages.create({ model, max_tokens: 64, messages }).withResponse();
      expect(hit.response.headers.get('cache-status')).toMatch(/hit/);
      expect(hit.data).toEqual(json.data);

      const first = anthropic.messages.stream({ model, max_tokens: 64, messages });
      const final = await first.finalMessage();
      expect(final.content).toEqual(json.data.content);
      expect(final.usage.output_tokens).toBe(json.data.usage.output_tokens);
      const replay = await anthropic.messages.stream({ model, max_tokens: 64, messages }).withResponse();
      expect(replay.response.headers.get('cache-status')).toMatch(/hit/);
      const replayed = await replay.data.finalMessage();
      expect(replayed).toEqual(final);
    });

    it(`round-trips a tool call and its result (${how})`, async () => {
      const tools: Anthropic.Tool[] = [
        { name: 'get_weather', input_schema: weatherSchema as Anthropic.Tool.InputSchema },
      ];
      const ask: Anthropic.MessageParam[] = [{ role: 'user', content: `Weather in Lima? (${model})` }];
      const first = await anthropic.messages.create({ model, max_tokens: 64, tools, messages: ask });
      expect(first.stop_reason).toBe('tool_use');
      const use = first.content.find((block) => block.type === 'tool_use') as Anthropic.ToolUseBlock;
      expect(use).toMatchObject({ name: 'get_weather', input: { city: expect.any(String) } });
      const streamed = await anthropic.messages
        .stream({ model, max_tokens: 64, tools, messages: ask })
        .finalMessage();
      expect(streamed.content).toEqual(first.content);
      const second = await anthropic.messages.create({
        model,
        max_tokens: 64,
        tools,
        messages: [
          ...ask,
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '19C and sunny' }] },
        ],
      });
      expect(second.stop_reason).toBe('end_turn');
      expect(second.content[0]?.type).toBe('text');
    });
  }

  it("passes the client's anthropic-version and anthropic-beta on, with the provider's key, and its request-id back", async () => {
    const reply = await anthropic.messages
      .create(
        { model: 'claude-capture', max_tokens: 8, messages },
        { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31' } },
      )
      .withResponse();
    const sent = captured.at(-1)!;
    // The 1.x SDK's version, not the gateway's default (2023-06-01, used for chat it translates).
    expect(sent['anthropic-version']).toBe('2026-10-21');
    expect(sent['anthropic-beta']).toBe('prompt-caching-2024-07-31');
    expect(sent['x-api-key']).toBe(PROVIDER_KEY);
    expect(sent.authorization).toBeUndefined();
    expect(reply.response.headers.get('request-id')).toBe('req_capture_1');
    expect(reply.request_id).toBe('req_capture_1');
  });

  it('answers a clear 400 per route for what its API cannot take', async () => {
    const ask = (path: string, body: unknown) =>
      fetch(`${gw.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as Record<string, unknown>,
      }));
    const both = await ask('/v1/responses', {
      model: 'gpt-4o-mini',
      input: 'x',
      previous_response_id: 'resp_1',
      conversation: 'conv_1',
    });
    expect(both).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(await ask('/v1/completions', { model: 'gpt-3.5-turbo-instruct' })).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_prompt' } },
    });
    expect(await ask('/v1/embeddings', { model: 'claude-3-haiku', input: 'x' })).toMatchObject({
      status: 400,
      body: {
        error: { code: 'unsupported_api', message: expect.stringMatching(/Anthropic provider 'claude'/) },
      },
    });
    expect(
      await ask('/v1/messages', {
        model: 'claude-3-haiku',
        max_tokens: 8,
        messages: [{ role: 'tool', content: 'x' }],
      }),
    ).toEqual({
      status: 400,
      body: {
        type: 'error',
        error: { type: 'invalid_request_error', message: "messages[0].role must be 'user' or 'assistant'" },
      },
    });
  });

  it('never answers a Messages call from a chat entry with the same fields', async () => {
    const body = { model: 'gpt-4o-mini', max_tokens: 32, messages: [{ role: 'user', content: 'same body' }] };
    const chat = await openai.chat.completions.create(body as OpenAI.ChatCompletionCreateParamsNonStreaming);
    expect(chat.object).toBe('chat.completion');
    const message = await anthropic.messages
      .create(body as Anthropic.MessageCreateParamsNonStreaming)
      .withResponse();
    expect(message.data.type).toBe('message');
    expect(message.response.headers.get('cache-status')).toBe('alchemist-perf; fwd=miss; stored');
  });

  it("answers errors in Anthropic's shape, as the SDK's own classes (401, 400, 429), x-api-key accepted", async () => {
    const wrong = new Anthropic({ baseURL: gw.url, apiKey: 'sk-nobody-knows', maxRetries: 0 });
    const unauthorized = await wrong.messages
      .create({ model: 'claude-3-haiku', max_tokens: 8, messages })
      .catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((unauthorized as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({
      type: 'error',
      error: { type: 'authentication_error', message: expect.any(String) },
    });
    const invalid = await anthropic.messages
      .create({ model: 'claude-3-haiku', messages } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(Anthropic.BadRequestError);
    expect((invalid as Error).message).toMatch(/max_tokens/);
    const tiny = new Anthropic({ baseURL: gw.url, apiKey: TINY_KEY, maxRetries: 0 });
    await tiny.messages.create({ model: 'claude-3-haiku', max_tokens: 8, messages });
    const limited = await tiny.messages
      .create({ model: 'claude-3-haiku', max_tokens: 8, messages })
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as InstanceType<typeof Anthropic.RateLimitError>).headers.get('retry-after')).toMatch(
      /^\d+$/,
    );

    const viaHeader = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-3-haiku', max_tokens: 8, messages }),
    });
    expect(viaHeader.status).toBe(200);
  });
});

describe('POST /v1/chat/completions', () => {
  it('sends a usage chunk only when the client asked (the openai-python loop never meets choices: [])', async () => {
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'python loop' }] };
    const plain = await openai.chat.completions.create({ ...body, stream: true });
    let text = '';
    for await (const chunk of plain) {
      expect(chunk.choices.length).toBeGreaterThan(0);
      expect(chunk.usage ?? undefined).toBeUndefined();
      text += chunk.choices[0]!.delta.content ?? '';
    }
    expect(text.length).toBeGreaterThan(0);
    const asked = await openai.chat.completions.create({
      ...body,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of asked) chunks.push(chunk);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: expect.any(Number) } });
    expect(chunks.filter((chunk) => chunk.choices.length === 0)).toHaveLength(1);
  });

  it('carries tools to an Anthropic model and back (tool_calls, then role: "tool")', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: weatherSchema } },
    ];
    const ask: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Kyoto?' }];
    const first = await openai.chat.completions.create({ model: 'claude-3-haiku', messages: ask, tools });
    const call = first.choices[0]!.message.tool_calls?.[0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(JSON.parse(call.function.arguments)).toHaveProperty('city');
    const stream = await openai.chat.completions.create({
      model: 'claude-3-haiku',
      messages: ask,
      tools,
      stream: true,
    });
    let args = '';
    for await (const chunk of stream)
      args += chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments ?? '';
    expect(args).toBe(call.function.arguments);
    const second = await openai.chat.completions.create({
      model: 'claude-3-haiku',
      tools,
      messages: [...ask, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '12C' }],
    });
    expect(second.choices[0]!.finish_reason).toBe('stop');
    expect(second.choices[0]!.message.content?.length).toBeGreaterThan(0);
  });

  it("surfaces the gateway's 401 and 429 as openai-node's own error classes, with request ids", async () => {
    const wrong = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'sk-nobody-knows', maxRetries: 0 });
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'errors' }] };
    const unauthorized = await wrong.chat.completions.create(body).catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((unauthorized as InstanceType<typeof OpenAI.APIError>).requestID).toMatch(/^req_[0-9a-f]{32}$/);
    const tiny = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: TINY_KEY, maxRetries: 0 });
    const limited = await tiny.responses
      .create({ model: 'gpt-4o-mini', input: 'limited' })
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    const ok = await openai.chat.completions.create(body);
    expect(ok._request_id).toMatch(/^req_sim/);
  });
});
