import { describe, expect, it } from 'vitest';
import { isBadRequestError, isUpstreamError } from '../../src/core/errors.ts';
import {
  fromAnthropicMessage,
  fromAnthropicStream,
  toAnthropicRequest,
} from '../../src/gateway/providers/anthropic-mapping.ts';
import { histogramQuantile, mergeBuckets } from '../../src/gateway/stats/quantile.ts';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function* events(...list: unknown[]) {
  for (const data of list) yield { data };
}

describe('OpenAI → Anthropic request mapping', () => {
  it('moves system messages to `system`, defaults max_tokens, clamps temperature, maps stop', () => {
    const body = toAnthropicRequest(
      {
        model: 'ignored',
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'developer', content: [{ type: 'text', text: 'and kind' }] },
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
          { role: 'user', content: [{ type: 'text', text: 'again' }] },
        ],
        temperature: 1.7,
        top_p: 0.9,
        stop: 'END',
      },
      'claude-3-haiku',
      true,
    );
    expect(body).toEqual({
      model: 'claude-3-haiku',
      system: 'be brief\n\nand kind',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'user', content: 'again' },
      ],
      max_tokens: 4096,
      temperature: 1,
      top_p: 0.9,
      stop_sequences: ['END'],
      stream: true,
    });
    expect(
      toAnthropicRequest(
        { messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 7 },
        'c',
        false,
      ),
    ).toMatchObject({ max_tokens: 7 });
  });

  it('rejects what the Messages API cannot take with a 400', () => {
    expect(() => toAnthropicRequest({ messages: [{ role: 'tool', content: 'x' }] }, 'c', false)).toThrow(
      /messages\[0\]\.role = "tool"/,
    );
    let error: unknown;
    try {
      toAnthropicRequest(
        { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] },
        'c',
        false,
      );
    } catch (caught) {
      error = caught;
    }
    expect(isBadRequestError(error)).toBe(true);
  });
});

describe('Anthropic → OpenAI reply mapping', () => {
  it('maps a Messages reply to a chat.completion with usage and finish_reason', () => {
    const reply = fromAnthropicMessage(
      'anthropic',
      {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        model: 'claude-3-haiku',
        content: [
          { type: 'text', text: 'Hello' },
          { type: 'text', text: ' there' },
        ],
        stop_reason: 'max_tokens',
        usage: { input_tokens: 12, output_tokens: 2 },
      },
      1700000000,
    );
    expect(reply).toEqual({
      id: 'msg_1',
      object: 'chat.completion',
      created: 1700000000,
      model: 'claude-3-haiku',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello there', refusal: null },
          logprobs: null,
          finish_reason: 'length',
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 2, total_tokens: 14 },
    });
    expect(() => fromAnthropicMessage('anthropic', { type: 'error' }, 0)).toThrow(
      /not a Messages API message/,
    );
  });

  it('maps the event stream to chunks, ending with a usage chunk', async () => {
    const chunks = await collect(
      fromAnthropicStream(
        'anthropic',
        events(
          {
            type: 'message_start',
            message: { id: 'msg_2', model: 'claude-3-haiku', usage: { input_tokens: 9, output_tokens: 1 } },
          },
          { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
          { type: 'ping' },
          { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } },
          { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: '!' } },
          { type: 'content_block_stop', index: 0 },
          { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } },
          { type: 'message_stop' },
        ),
        1,
      ),
    );
    expect(chunks.map((c) => (c.choices as { delta?: { content?: string } }[])[0]?.delta?.content)).toEqual([
      '',
      'Hi',
      '!',
      undefined,
      undefined,
    ]);
    expect(chunks[3]).toMatchObject({ choices: [{ finish_reason: 'stop' }] });
    expect(chunks[4]).toMatchObject({
      id: 'msg_2',
      model: 'claude-3-haiku',
      choices: [],
      usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 },
    });
  });

  it('fails a stream that ends without message_stop, or carries an error event', async () => {
    await expect(
      collect(fromAnthropicStream('a', events({ type: 'message_start', message: {} }), 1)),
    ).rejects.toThrow(/before message_stop/);
    const error = await collect(
      fromAnthropicStream(
        'a',
        events({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
        1,
      ),
    ).catch((caught: unknown) => caught);
    expect(isUpstreamError(error) && error.upstreamStatus).toBe(529);
  });
});

describe('histogram quantiles (Prometheus histogram_quantile semantics)', () => {
  const buckets = { boundaries: [0.1, 0.5, 1], counts: [10, 20, 10, 0] };

  it('interpolates linearly inside the bucket holding the rank', () => {
    // rank 20 of 40: 10 below 0.1, then 10 of the 20 in (0.1, 0.5] → 0.1 + 0.4 · 0.5
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.3, 10);
    // rank 38: 30 below 0.5, 8 of 10 in (0.5, 1] → 0.9
    expect(histogramQuantile(0.95, buckets)).toBeCloseTo(0.9, 10);
    // the first bucket interpolates from 0
    expect(histogramQuantile(0.125, buckets)).toBeCloseTo(0.05, 10);
  });

  it('answers the highest finite bound for the +Inf bucket, undefined when empty', () => {
    expect(histogramQuantile(0.99, { boundaries: [1, 2], counts: [0, 1, 5] })).toBe(2);
    expect(histogramQuantile(0.5, { boundaries: [1], counts: [0, 0] })).toBeUndefined();
  });

  it('merges points that share boundaries', () => {
    expect(mergeBuckets([buckets, buckets])?.counts).toEqual([20, 40, 20, 0]);
  });
});
