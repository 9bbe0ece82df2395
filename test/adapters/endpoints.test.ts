import Anthropic from '@anthropic-ai/sdk';
import { Stream as AnthropicStream } from '@anthropic-ai/sdk/streaming';
import OpenAI from 'openai';
import { Stream } from 'openai/streaming';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { wrapAnthropic } from '../../src/adapters/anthropic.ts';
import { wrapOpenAI } from '../../src/adapters/openai.ts';
import { aiCachePolicy } from '../../src/cache/index.ts';
import type { CallContext } from '../../src/core/context.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import { startSimulator } from '../../src/simulator/index.ts';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(() => sim?.close());
beforeEach(() => sim.resetStats());

const openaiClient = () =>
  new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: 'sk-test-endpoints', maxRetries: 0 });
const anthropicClient = () => new Anthropic({ baseURL: sim.url, apiKey: 'sk-test-endpoints', maxRetries: 0 });

describe('wrapOpenAI beyond chat', () => {
  it('caches embeddings.create, read as embeddings (input usage, no output)', async () => {
    const contexts: CallContext[] = [];
    const openai = wrapOpenAI(openaiClient(), {
      cache: aiCachePolicy(),
      onContext: (ctx) => contexts.push(ctx),
    });
    const params = { model: 'text-embedding-3-small', input: 'wrapped embeddings', dimensions: 8 };
    const first = await openai.embeddings.create(params);
    const second = await openai.embeddings.create(params).withResponse();
    expect(second.data.data[0]!.embedding).toEqual(first.data[0]!.embedding);
    expect(second.response.headers.get('cache-status')).toMatch(/^alchemist-perf; hit/);
    expect(sim.stats().byApi.embeddings).toBe(1);
    expect(contexts[0]).toMatchObject({ operation: 'embeddings', route: 'openai.embeddings' });
    expect(contexts[0]!.wire.api).toBe('openai.embeddings');
  });

  it('caches responses.create, JSON and streams (replayed as the same events)', async () => {
    const openai = wrapOpenAI(openaiClient(), { cache: aiCachePolicy() });
    const json = await openai.responses.create({ model: 'gpt-4o-mini', input: 'wrapped responses' });
    const again = await openai.responses
      .create({ model: 'gpt-4o-mini', input: 'wrapped responses' })
      .withResponse();
    expect(again.data.id).toBe(json.id);
    expect(again.response.headers.get('cache-status')).toMatch(/hit/);

    const types = async () => {
      const stream = await openai.responses.create({
        model: 'gpt-4o-mini',
        input: 'wrapped stream',
        stream: true,
      });
      expect(stream).toBeInstanceOf(Stream);
      const seen: string[] = [];
      for await (const event of stream) seen.push(event.type);
      return seen;
    };
    const live = await types();
    expect(await types()).toEqual(live);
    expect(live.at(-1)).toBe('response.completed');
    expect(sim.stats().byApi.responses).toBe(2);
  });
});

describe('wrapAnthropic', () => {
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'wrapped anthropic' }];

  it('caches messages.create with the SDK types, JSON and stream', async () => {
    const contexts: CallContext[] = [];
    const anthropic = wrapAnthropic(anthropicClient(), {
      cache: aiCachePolicy(),
      onContext: (ctx) => contexts.push(ctx),
    });
    const first = await anthropic.messages
      .create({ model: 'claude-3-haiku', max_tokens: 32, messages })
      .withResponse();
    expect(first.data.type).toBe('message');
    expect(first.response.headers.get('request-id')).toMatch(/^req_sim/);
    const hit = await anthropic.messages
      .create({ model: 'claude-3-haiku', max_tokens: 32, messages })
      .withResponse();
    expect(hit.data).toEqual(first.data);
    expect(hit.response.headers.get('cache-status')).toMatch(/hit/);
    expect(contexts[0]!.decisions.usage?.inputTokens).toBe(first.data.usage.input_tokens);

    const stream = async () => {
      const events = await anthropic.messages.create({
        model: 'claude-3-haiku',
        max_tokens: 32,
        messages,
        stream: true,
      });
      expect(events).toBeInstanceOf(AnthropicStream);
      let text = '';
      for await (const event of events)
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
          text += event.delta.text;
      return text;
    };
    const live = await stream();
    expect(await stream()).toBe(live);
    expect(live).toBe((first.data.content[0] as Anthropic.TextBlock).text);
    expect(sim.stats().byApi.anthropic).toBe(2);
  });

  it("passes the provider's errors on as the SDK's own classes", async () => {
    const anthropic = wrapAnthropic(anthropicClient());
    const error = await anthropic.messages
      .create({ model: 'claude-3-haiku', max_tokens: 8, messages }, { headers: { 'x-sim-fail': '429' } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
  });
});
