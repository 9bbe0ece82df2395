import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSse } from '../../src/core/sse.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';

// The simulator checked by the strictest consumers there are: the SDKs' own stream helpers
// (openai-node `responses.stream()` rejects any event out of place; Anthropic `messages.stream()`
// needs message_start first and named events).
let sim: Simulator;
let openai: OpenAI;
let anthropic: Anthropic;
beforeAll(async () => {
  sim = await startSimulator({ apiKey: 'sk-sim' });
  openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-sim', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: sim.url, apiKey: 'sk-sim', maxRetries: 0 });
});
afterAll(() => sim.close());

const weather = {
  type: 'function' as const,
  name: 'get_weather',
  description: 'Weather of a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  strict: false,
};

describe('simulated embeddings', () => {
  it('answers the same unit vector as floats and as base64 (openai-node asks base64 by default)', async () => {
    const floats = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: 'hi',
      encoding_format: 'float',
    });
    const decoded = await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'hi' });
    expect(floats.data[0]!.embedding).toHaveLength(1536);
    expect(decoded.data[0]!.embedding).toEqual(floats.data[0]!.embedding);
    const norm = Math.hypot(...floats.data[0]!.embedding);
    expect(norm).toBeCloseTo(1, 5);
    const small = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['a', 'b'],
      dimensions: 8,
    });
    expect(small.data.map((d) => d.embedding.length)).toEqual([8, 8]);
    expect(small.data[0]!.embedding).not.toEqual(small.data[1]!.embedding);
    expect(small.usage.prompt_tokens).toBe(2);
  });
});

describe('simulated Responses API', () => {
  it('answers JSON and the event sequence openai-node responses.stream() accepts, with the same text', async () => {
    const json = await openai.responses.create({ model: 'gpt-4o', input: 'Tell me about caches' });
    expect(json.output_text.length).toBeGreaterThan(0);
    expect(json.usage?.output_tokens).toBeGreaterThan(0);
    const stream = openai.responses.stream({ model: 'gpt-4o', input: 'Tell me about caches' });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    expect(final.output_text).toBe(json.output_text);
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types.at(-1)).toBe('response.completed');
  });

  it('names every SSE event and ends without [DONE]', async () => {
    const response = await fetch(`${sim.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-sim', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', input: 'hi', stream: true }),
    });
    const events = [];
    for await (const event of parseSse(response.body!)) events.push(event);
    expect(events.every((e) => e.event === JSON.parse(e.data).type)).toBe(true);
    expect(events.map((e) => JSON.parse(e.data).sequence_number)).toEqual(events.map((_, i) => i));
  });

  it('calls the offered function, then answers its output in text', async () => {
    const first = await openai.responses.create({
      model: 'gpt-4o',
      input: 'Weather in Paris?',
      tools: [weather],
    });
    const call = first.output.find((item) => item.type === 'function_call');
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather' });
    expect(JSON.parse((call as { arguments: string }).arguments)).toHaveProperty('city');
    const stream = openai.responses.stream({ model: 'gpt-4o', input: 'Weather in Paris?', tools: [weather] });
    const streamed = await stream.finalResponse();
    expect(streamed.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather' });
    const second = await openai.responses.create({
      model: 'gpt-4o',
      tools: [weather],
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        call as OpenAI.Responses.ResponseFunctionToolCall,
        {
          type: 'function_call_output',
          call_id: (call as { call_id: string }).call_id,
          output: '{"temp":21}',
        },
      ],
    });
    expect(second.output_text.length).toBeGreaterThan(0);
  });
});

describe('simulated legacy completions', () => {
  it('answers JSON and a stream of text_completion chunks with the same text', async () => {
    const json = await openai.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi' });
    const stream = await openai.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say hi',
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? '';
    expect(text).toBe(json.choices[0]!.text);
    expect(json.object).toBe('text_completion');
  });
});

describe('simulated Anthropic Messages', () => {
  it('answers JSON and the named event stream messages.stream() accepts', async () => {
    const json = await anthropic.messages.create({
      model: 'claude-3-5-sonnet',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const stream = anthropic.messages.stream({
      model: 'claude-3-5-sonnet',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const final = await stream.finalMessage();
    expect(final.content).toEqual(json.content);
    expect(final.usage.output_tokens).toBe(json.usage.output_tokens);
  });

  it('calls a tool (JSON and stream), then answers the tool_result in text', async () => {
    const tools = [
      {
        name: 'get_weather',
        input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } },
      },
    ];
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    const first = await anthropic.messages.create({
      model: 'claude-3-5-sonnet',
      max_tokens: 100,
      tools,
      messages,
    });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content[0] as Anthropic.ToolUseBlock;
    expect(use).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { city: expect.any(String) } });
    const streamed = await anthropic.messages
      .stream({ model: 'claude-3-5-sonnet', max_tokens: 100, tools, messages })
      .finalMessage();
    expect(streamed.content).toEqual(first.content);
    const second = await anthropic.messages.create({
      model: 'claude-3-5-sonnet',
      max_tokens: 100,
      tools,
      messages: [
        ...messages,
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '21C' }] },
      ],
    });
    expect(second.stop_reason).toBe('end_turn');
  });
});
