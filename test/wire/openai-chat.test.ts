import { describe, expect, it } from 'vitest';
import { openAiChat } from '../../src/wire/openai-chat.ts';

const body = {
  id: 'chatcmpl-1',
  model: 'gpt-4o-2024-08-06',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' },
    { index: 1, message: { role: 'assistant', content: ' there' }, finish_reason: 'length' },
  ],
  usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
};

describe('the OpenAI chat wire format', () => {
  it('reads usage, model, id, finish reasons and output text of a JSON answer', () => {
    expect(openAiChat.usage(body)).toEqual({ inputTokens: 12, outputTokens: 3 });
    expect(openAiChat.responseModel(body)).toBe('gpt-4o-2024-08-06');
    expect(openAiChat.responseId(body)).toBe('chatcmpl-1');
    expect(openAiChat.finishReasons(body)).toEqual(['stop', 'length']);
    expect(openAiChat.outputText(body)).toBe('Hello there');
    expect(openAiChat.usage({ usage: { prompt_tokens: -1 } })).toBeUndefined();
    expect(openAiChat.usage('text')).toBeUndefined();
  });

  it('reads a stream chunk by chunk: text per chunk, the final usage chunk, finish reasons', () => {
    const reader = openAiChat.streamReader();
    expect(reader.sawEnd).toBe(false);
    const texts = [
      { id: 'c1', model: 'gpt-4o', choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' } }] },
      { id: 'c1', model: 'gpt-4o', choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: 'stop' }] },
      { id: 'c1', model: 'gpt-4o', choices: [], usage: { prompt_tokens: 5, completion_tokens: 2 } },
    ].map((chunk) => reader.read(chunk));
    expect(texts).toEqual(['Hel', 'lo', '']);
    expect(reader.usage).toEqual({ inputTokens: 5, outputTokens: 2 });
    expect(reader.finishReasons).toEqual(['stop']);
    expect(reader.responseModel).toBe('gpt-4o');
    expect(reader.responseId).toBe('c1');
    expect(reader.sawEnd).toBe(true);
  });

  it('leaves bookkeeping fields out of keys, and knows a whole stream', () => {
    for (const field of ['user', 'metadata', 'store', 'model', 'stream']) {
      expect(openAiChat.ignoredFields.has(field)).toBe(true);
    }
    expect(openAiChat.ignoredFields.has('messages')).toBe(false);
    expect(openAiChat.streamComplete([])).toBe(false);
    expect(openAiChat.streamComplete([{ choices: [] }])).toBe(true);
    expect(openAiChat.streamComplete([{ type: 'message_start' }, { type: 'content_block_delta' }])).toBe(
      false,
    );
    expect(openAiChat.streamComplete([{ type: 'message_start' }, { type: 'message_stop' }])).toBe(true);
    expect(openAiChat.maxOutputTokens({ max_completion_tokens: 50, max_tokens: 9 })).toBe(50);
    expect(openAiChat.maxOutputTokens({})).toBeUndefined();
  });
});
