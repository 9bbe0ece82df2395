import { describe, expect, it } from 'vitest';
import { createCallContext } from '../../src/core/context.ts';
import { isBadRequestError } from '../../src/core/errors.ts';
import { streamResult } from '../../src/core/result.ts';
import {
  fromAnthropicMessage,
  fromAnthropicStream,
  toAnthropicRequest,
} from '../../src/gateway/providers/anthropic-mapping.ts';
import {
  fromChatCompletion,
  fromChatStream,
  toChatRequest,
} from '../../src/gateway/providers/messages-mapping.ts';
import { usageChunkWhenAsked } from '../../src/gateway/usage-chunk.ts';
import { openAiChat } from '../../src/wire/index.ts';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function* from<T>(...items: T[]): AsyncGenerator<T> {
  yield* items;
}

const weather = { type: 'object', properties: { city: { type: 'string' } } };

describe('chat → Anthropic: tools both ways (regression: tools dropped, role "tool" answered 400)', () => {
  it('maps tools, tool_choice, assistant tool_calls and consecutive tool results', () => {
    const body = toAnthropicRequest(
      {
        messages: [
          { role: 'user', content: 'Weather in Paris and Rome?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
              },
              {
                id: 'call_2',
                type: 'function',
                function: { name: 'get_weather', arguments: '{"city":"Rome"}' },
              },
            ],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '21C' },
          { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '25C' }] },
        ],
        tools: [
          {
            type: 'function',
            function: { name: 'get_weather', description: 'Weather', parameters: weather },
          },
        ],
        tool_choice: 'required',
        parallel_tool_calls: false,
      },
      'claude-3-haiku',
      false,
    );
    expect(body).toEqual({
      model: 'claude-3-haiku',
      max_tokens: 4096,
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
            { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '21C' },
            { type: 'tool_result', tool_use_id: 'call_2', content: '25C' },
          ],
        },
      ],
      tools: [{ name: 'get_weather', description: 'Weather', input_schema: weather }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
    expect(
      toAnthropicRequest(
        {
          messages: [{ role: 'user', content: 'x' }],
          tool_choice: { type: 'function', function: { name: 'f' } },
        },
        'c',
        false,
      ),
    ).toMatchObject({ tool_choice: { type: 'tool', name: 'f' } });
  });

  it('maps image parts, and answers 400 for arguments that are not a JSON object', () => {
    const body = toAnthropicRequest(
      {
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is it?' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBO' } },
            ],
          },
        ],
      },
      'c',
      false,
    );
    expect(body.messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is it?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBO' } },
        ],
      },
    ]);
    const bad = (() => {
      try {
        toAnthropicRequest(
          {
            messages: [
              { role: 'assistant', tool_calls: [{ id: 'c', function: { name: 'f', arguments: '[1]' } }] },
            ],
          },
          'c',
          false,
        );
      } catch (error) {
        return error;
      }
    })();
    expect(isBadRequestError(bad)).toBe(true);
  });

  it('maps tool_use back to tool_calls, JSON and stream, with the prompt including cached tokens', async () => {
    const reply = fromAnthropicMessage(
      'a',
      {
        type: 'message',
        id: 'msg_1',
        model: 'claude',
        content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } }],
        stop_reason: 'tool_use',
        usage: { input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 90 },
      },
      1,
    );
    expect(reply.choices).toEqual([
      {
        index: 0,
        message: {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'toolu_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
          refusal: null,
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ]);
    expect(reply.usage).toEqual({
      prompt_tokens: 100,
      completion_tokens: 5,
      total_tokens: 105,
      prompt_tokens_details: { cached_tokens: 90 },
    });
    const chunks = await collect(
      fromAnthropicStream(
        'a',
        from(
          {
            data: {
              type: 'message_start',
              message: { id: 'msg_2', model: 'claude', usage: { input_tokens: 3 } },
            },
          },
          {
            data: {
              type: 'content_block_start',
              index: 0,
              content_block: { type: 'tool_use', id: 'toolu_2', name: 'get_weather', input: {} },
            },
          },
          {
            data: {
              type: 'content_block_delta',
              index: 0,
              delta: { type: 'input_json_delta', partial_json: '{"city":' },
            },
          },
          {
            data: {
              type: 'content_block_delta',
              index: 0,
              delta: { type: 'input_json_delta', partial_json: '"Rome"}' },
            },
          },
          { data: { type: 'content_block_stop', index: 0 } },
          {
            data: { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 4 } },
          },
          { data: { type: 'message_stop' } },
        ),
        1,
      ),
    );
    const calls = chunks.flatMap(
      (chunk) => (chunk.choices as { delta?: { tool_calls?: unknown[] } }[])[0]?.delta?.tool_calls ?? [],
    );
    expect(calls).toEqual([
      { index: 0, id: 'toolu_2', type: 'function', function: { name: 'get_weather', arguments: '' } },
      { index: 0, function: { arguments: '{"city":' } },
      { index: 0, function: { arguments: '"Rome"}' } },
    ]);
    expect(chunks.at(-2)).toMatchObject({ choices: [{ finish_reason: 'tool_calls' }] });
  });
});

describe('Messages → chat, for an OpenAI-compatible provider', () => {
  it('maps system, tool_use, tool_result (before the turn text), tools and tool_choice', () => {
    expect(
      toChatRequest(
        {
          system: [{ type: 'text', text: 'be brief' }],
          max_tokens: 64,
          messages: [
            { role: 'user', content: 'Weather?' },
            {
              role: 'assistant',
              content: [
                { type: 'text', text: 'Checking.' },
                { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } },
              ],
            },
            {
              role: 'user',
              content: [
                { type: 'tool_result', tool_use_id: 'toolu_1', content: '3C' },
                { type: 'text', text: 'Thanks' },
              ],
            },
          ],
          tools: [{ name: 'get_weather', input_schema: weather }],
          tool_choice: { type: 'tool', name: 'get_weather' },
          stop_sequences: ['END'],
          metadata: { user_id: 'u1' },
        },
        'gpt-4o-mini',
        true,
      ),
    ).toEqual({
      model: 'gpt-4o-mini',
      max_tokens: 64,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'Weather?' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            {
              id: 'toolu_1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Oslo"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '3C' },
        { role: 'user', content: 'Thanks' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: weather } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      stop: ['END'],
      user: 'u1',
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('maps the answer back to a Message: tool_use blocks, stop_reason, cached tokens out of input_tokens', () => {
    expect(
      fromChatCompletion('p', {
        id: 'chatcmpl-9',
        model: 'gpt-4o-mini',
        choices: [
          {
            message: {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
            },
            finish_reason: 'tool_calls',
          },
        ],
        usage: { prompt_tokens: 100, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 60 } },
      }),
    ).toEqual({
      id: 'msg_9',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-mini',
      content: [{ type: 'tool_use', id: 'call_1', name: 'f', input: { a: 1 } }],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: {
        input_tokens: 40,
        output_tokens: 7,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 60,
      },
    });
  });

  it('maps chunks to the Messages event sequence, usage from the chunk after the finish chunk', async () => {
    const chunk = (delta: unknown, finish: string | null = null) => ({
      id: 'chatcmpl-1',
      model: 'm',
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    const events = await collect(
      fromChatStream(
        'p',
        from<unknown>(
          chunk({ role: 'assistant', content: '' }),
          chunk({ content: 'Hi' }),
          chunk({
            tool_calls: [
              { index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } },
            ],
          }),
          chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }),
          chunk({}, 'tool_calls'),
          { id: 'chatcmpl-1', model: 'm', choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } },
        ),
      ),
    );
    expect(events.map((event) => event.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[4]).toEqual({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'call_1', name: 'f', input: {} },
    });
    expect(events[7]).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: {
        input_tokens: 5,
        output_tokens: 3,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    });
  });
});

describe('usageChunkWhenAsked (regression: every chat stream ended with a choices: [] chunk)', () => {
  const chunks = () =>
    from(
      { choices: [{ index: 0, delta: { content: 'Hi' } }], usage: null },
      { choices: [], usage: { prompt_tokens: 1, completion_tokens: 1 } },
    );
  const run = async (request: Record<string, unknown>) => {
    const ctx = createCallContext({
      provider: 'p',
      model: 'm',
      wire: openAiChat,
      request: { stream: true, ...request },
    });
    const result = await usageChunkWhenAsked.execute(ctx, async () => streamResult(chunks()));
    return collect(result.kind === 'stream' ? result.chunks : from());
  };

  it('drops the usage chunk and field unless the client asked', async () => {
    expect(await run({})).toEqual([{ choices: [{ index: 0, delta: { content: 'Hi' } }] }]);
    expect(await run({ stream_options: { include_usage: true } })).toHaveLength(2);
  });
});
