import { describe, expect, it } from 'vitest';
import {
  anthropicMessages,
  defaultWireFormat,
  openAiChat,
  openAiCompletions,
  openAiEmbeddings,
  openAiResponses,
  wireFormat,
} from '../../src/wire/index.ts';
import type { WireFormat } from '../../src/wire/types.ts';

/** A stream read chunk by chunk: what the reader says, and the output text its reads returned. */
function readStream(format: WireFormat, chunks: unknown[]) {
  const reader = format.streamReader();
  let outputText = '';
  for (const chunk of chunks) outputText += reader.read(chunk);
  return Object.assign(reader, { outputText });
}

const invalid = {
  error: { message: 'bad', type: 'invalid_request_error' as const, code: 'invalid_request' },
};

describe('the wire-format table', () => {
  it('has one module per API, chat completions the default of the chat operation', () => {
    expect(wireFormat('openai.responses')).toBe(openAiResponses);
    expect(wireFormat('anthropic.messages')).toBe(anthropicMessages);
    expect(wireFormat('openai.embeddings')).toBe(openAiEmbeddings);
    expect(wireFormat('openai.completions')).toBe(openAiCompletions);
    expect(defaultWireFormat('chat')).toBe(openAiChat);
    expect(defaultWireFormat('embeddings')).toBe(openAiEmbeddings);
    expect(defaultWireFormat('text_completion')).toBe(openAiCompletions);
  });
});

describe('openai.embeddings', () => {
  it('reads input-only usage and keeps dimensions and encoding_format in the key', () => {
    const body = {
      object: 'list',
      model: 'text-embedding-3-small',
      data: [],
      usage: { prompt_tokens: 7, total_tokens: 7 },
    };
    expect(openAiEmbeddings.usage(body)).toEqual({ inputTokens: 7, outputTokens: 0 });
    expect(openAiEmbeddings.responseModel(body)).toBe('text-embedding-3-small');
    expect(openAiEmbeddings.maxOutputTokens({ input: 'x' })).toBe(0);
    for (const kept of ['input', 'dimensions', 'encoding_format'])
      expect(openAiEmbeddings.ignoredFields.has(kept)).toBe(false);
    expect(openAiEmbeddings.ignoredFields.has('user')).toBe(true);
    expect(openAiEmbeddings.sse).toBeUndefined();
  });
});

describe('openai.completions', () => {
  it('reads choices[].text, finish reasons and usage of a body and of a stream', () => {
    const body = {
      id: 'cmpl-1',
      model: 'gpt-3.5-turbo-instruct',
      choices: [{ index: 0, text: 'Hello there', finish_reason: 'length' }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    };
    expect(openAiCompletions.outputText(body)).toBe('Hello there');
    expect(openAiCompletions.finishReasons(body)).toEqual(['length']);
    expect(openAiCompletions.usage(body)).toEqual({ inputTokens: 3, outputTokens: 2 });
    expect(openAiCompletions.maxOutputTokens({})).toBe(16);
    const reader = readStream(openAiCompletions, [
      { id: 'cmpl-1', model: 'm', choices: [{ index: 0, text: 'Hel', finish_reason: null }] },
      { id: 'cmpl-1', model: 'm', choices: [{ index: 0, text: 'lo', finish_reason: 'stop' }] },
      { id: 'cmpl-1', model: 'm', choices: [], usage: { prompt_tokens: 1, completion_tokens: 2 } },
    ]);
    expect([reader.outputText, reader.responseId, reader.finishReasons, reader.usage]).toEqual([
      'Hello',
      'cmpl-1',
      ['stop'],
      { inputTokens: 1, outputTokens: 2 },
    ]);
  });
});

describe('openai.responses', () => {
  const completed = {
    id: 'resp_1',
    object: 'response',
    status: 'completed',
    model: 'gpt-4o',
    output: [
      { type: 'reasoning', id: 'rs_1', summary: [] },
      {
        type: 'message',
        id: 'msg_1',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Hi', annotations: [] }],
      },
    ],
    usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
  };

  it('reads output text, usage, id and a finish reason in chat vocabulary', () => {
    expect(openAiResponses.outputText(completed)).toBe('Hi');
    expect(openAiResponses.usage(completed)).toEqual({ inputTokens: 5, outputTokens: 2 });
    expect(openAiResponses.responseId(completed)).toBe('resp_1');
    expect(openAiResponses.finishReasons(completed)).toEqual(['stop']);
    const call = {
      ...completed,
      output: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' }],
    };
    expect(openAiResponses.finishReasons(call)).toEqual(['tool_calls']);
    const cut = { ...completed, status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
    expect(openAiResponses.finishReasons(cut)).toEqual(['max_output_tokens']);
    expect(openAiResponses.maxOutputTokens({ max_output_tokens: 64 })).toBe(64);
  });

  it('keeps store, previous_response_id and conversation in the key', () => {
    for (const kept of ['store', 'previous_response_id', 'conversation', 'input', 'instructions', 'tools'])
      expect(openAiResponses.ignoredFields.has(kept)).toBe(false);
    expect(openAiResponses.ignoredFields.has('safety_identifier')).toBe(true);
  });

  it('reads a stream up to response.completed, the end marker', () => {
    const events = [
      {
        type: 'response.created',
        sequence_number: 0,
        response: { ...completed, status: 'in_progress', output: [], usage: null },
      },
      { type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_1', delta: 'H' },
      { type: 'response.output_text.delta', sequence_number: 2, item_id: 'msg_1', delta: 'i' },
    ];
    const partial = readStream(openAiResponses, events);
    expect([partial.sawEnd, partial.outputText, partial.responseId, partial.usage]).toEqual([
      false,
      'Hi',
      'resp_1',
      undefined,
    ]);
    const reader = readStream(openAiResponses, [
      ...events,
      { type: 'response.completed', sequence_number: 3, response: completed },
    ]);
    expect([reader.sawEnd, reader.finishReasons, reader.usage]).toEqual([
      true,
      ['stop'],
      { inputTokens: 5, outputTokens: 2 },
    ]);
    expect(
      readStream(openAiResponses, [{ type: 'response.failed', response: { ...completed, status: 'failed' } }])
        .sawEnd,
    ).toBe(false);
  });

  it('names every SSE event after its type, and errors as the flat error event', () => {
    expect(openAiResponses.sse?.eventName({ type: 'response.created' })).toBe('response.created');
    expect(openAiResponses.sse?.errorEvent(invalid)).toEqual({
      type: 'error',
      code: 'invalid_request',
      message: 'bad',
      param: null,
    });
  });
});

describe('anthropic.messages', () => {
  const message = {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-3-5-sonnet',
    content: [
      { type: 'text', text: 'Let me check. ' },
      { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Paris' } },
    ],
    stop_reason: 'tool_use',
    usage: {
      input_tokens: 25,
      output_tokens: 12,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 50,
    },
  };

  it('counts the whole prompt as input (input + cache reads + cache writes) and keeps the cache counts', () => {
    expect(anthropicMessages.usage(message)).toEqual({
      inputTokens: 175,
      outputTokens: 12,
      cacheReadTokens: 100,
      cacheWriteTokens: 50,
    });
    expect(anthropicMessages.finishReasons(message)).toEqual(['tool_use']);
    expect(anthropicMessages.outputText(message)).toBe('Let me check. ');
    expect(anthropicMessages.maxOutputTokens({ max_tokens: 256 })).toBe(256);
    expect(anthropicMessages.ignoredFields.has('system')).toBe(false);
    expect(anthropicMessages.ignoredFields.has('metadata')).toBe(true);
  });

  it('assembles stream usage from message_start and the cumulative message_delta, ending at message_stop', () => {
    const events = [
      {
        type: 'message_start',
        message: {
          ...message,
          content: [],
          stop_reason: null,
          usage: { input_tokens: 25, output_tokens: 1, cache_read_input_tokens: 100 },
        },
      },
      { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
      { type: 'ping' },
      { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
      { type: 'content_block_stop', index: 0 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { output_tokens: 9 },
      },
    ];
    const open = readStream(anthropicMessages, events);
    expect(open.sawEnd).toBe(false);
    expect(open.usage).toEqual({
      inputTokens: 125,
      outputTokens: 9,
      cacheReadTokens: 100,
      cacheWriteTokens: 0,
    });
    const reader = readStream(anthropicMessages, [...events, { type: 'message_stop' }]);
    expect([
      reader.sawEnd,
      reader.finishReasons,
      reader.outputText,
      reader.responseId,
      reader.responseModel,
    ]).toEqual([true, ['end_turn'], 'Hi', 'msg_1', 'claude-3-5-sonnet']);
  });

  it("renders errors in Anthropic's shape", () => {
    expect(anthropicMessages.errorBody(invalid)).toEqual({
      type: 'error',
      error: { type: 'invalid_request_error', message: 'bad' },
    });
    const limited = {
      error: { message: 'slow down', type: 'rate_limit_error' as const, code: 'rate_limited' },
    };
    expect(anthropicMessages.sse?.errorEvent(limited)).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'slow down' },
    });
    const tooLarge = {
      error: { message: 'big', type: 'invalid_request_error' as const, code: 'payload_too_large' },
    };
    expect((anthropicMessages.errorBody(tooLarge) as { error: { type: string } }).error.type).toBe(
      'request_too_large',
    );
  });
});

describe('streamComplete and the text each read adds', () => {
  it('is whole only up to each API end event', () => {
    const created = { type: 'response.created', response: { id: 'r' } };
    expect(openAiResponses.streamComplete?.([created, { type: 'response.completed', response: {} }])).toBe(
      true,
    );
    expect(openAiResponses.streamComplete?.([created, { type: 'response.failed', response: {} }])).toBe(
      false,
    );
    expect(openAiResponses.streamComplete?.([created])).toBe(false);
    const start = { type: 'message_start', message: {} };
    expect(anthropicMessages.streamComplete?.([start, { type: 'message_stop' }])).toBe(true);
    expect(anthropicMessages.streamComplete?.([start, { type: 'content_block_stop', index: 0 }])).toBe(false);
    expect(openAiCompletions.streamComplete?.([{ choices: [] }])).toBe(true);
    expect(openAiEmbeddings.streamComplete?.([])).toBe(false);
  });

  it('returns the output text a chunk adds', () => {
    expect(openAiResponses.streamReader().read({ type: 'response.output_text.delta', delta: 'Hi' })).toBe(
      'Hi',
    );
    expect(
      anthropicMessages
        .streamReader()
        .read({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'Yo' } }),
    ).toBe('Yo');
    expect(anthropicMessages.streamReader().read({ type: 'ping' })).toBe('');
    expect(openAiCompletions.streamReader().read({ choices: [{ text: 'ab' }] })).toBe('ab');
  });
});
