import type { SimEvent } from './openai.ts';
import type { SimulatedReply } from './reply.ts';
import { type SimulatedToolCall, simulatedToolCall } from './tools.ts';

/** The tool the model calls: when tools are offered and the last user turn holds no `tool_result` yet. */
export function anthropicToolCall(
  body: Record<string, unknown>,
  reply: SimulatedReply,
): SimulatedToolCall | undefined {
  const last = (body.messages as unknown[]).at(-1) as Record<string, unknown> | null;
  const answered =
    Array.isArray(last?.content) &&
    last.content.some((block) => (block as Record<string, unknown> | null)?.type === 'tool_result');
  return simulatedToolCall(body.tools, answered, reply, (tool) => ({
    name: tool.name,
    schema: tool.input_schema,
  }));
}

function stopReason(reply: SimulatedReply, call: SimulatedToolCall | undefined): string {
  return call ? 'tool_use' : reply.truncated ? 'max_tokens' : 'end_turn';
}

/** Why an Anthropic Messages request is invalid, or undefined. */
export function validateAnthropic(body: Record<string, unknown>): string | undefined {
  if (typeof body.model !== 'string' || body.model === '') return 'model: Field required';
  if (typeof body.max_tokens !== 'number' || body.max_tokens < 1) return 'max_tokens: Field required';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: Field required';
  return undefined;
}

function message(reply: SimulatedReply, model: string) {
  return {
    id: `msg_sim${reply.id}`,
    type: 'message',
    role: 'assistant',
    model,
    stop_sequence: null,
  };
}

/** A Messages API reply. https://docs.anthropic.com/en/api/messages */
export function anthropicMessage(reply: SimulatedReply, model: string, call?: SimulatedToolCall) {
  return {
    ...message(reply, model),
    content: call
      ? [{ type: 'tool_use', id: `toolu_sim${call.id}`, name: call.name, input: call.arguments }]
      : [{ type: 'text', text: reply.words.join('') }],
    stop_reason: stopReason(reply, call),
    usage: {
      input_tokens: reply.inputTokens,
      output_tokens: reply.outputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
    },
  };
}

/**
 * The Messages streaming event sequence: message_start, content_block_start, ping,
 * content_block_delta..., content_block_stop, message_delta (stop reason + output usage), message_stop.
 * https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
export function anthropicStream(
  reply: SimulatedReply,
  model: string,
  wordsPerChunk: number,
  call?: SimulatedToolCall,
): SimEvent[] {
  const events: SimEvent[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          ...message(reply, model),
          content: [],
          stop_reason: null,
          usage: { input_tokens: reply.inputTokens, output_tokens: 1 },
        },
      },
    },
    {
      event: 'content_block_start',
      data: {
        type: 'content_block_start',
        index: 0,
        content_block: call
          ? { type: 'tool_use', id: `toolu_sim${call.id}`, name: call.name, input: {} }
          : { type: 'text', text: '' },
      },
    },
    { event: 'ping', data: { type: 'ping' } },
  ];
  if (call) {
    events.push({
      event: 'content_block_delta',
      data: {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: JSON.stringify(call.arguments) },
      },
    });
  }
  for (let i = 0; !call && i < reply.words.length; i += wordsPerChunk) {
    events.push({
      event: 'content_block_delta',
      data: {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text: reply.words.slice(i, i + wordsPerChunk).join('') },
      },
    });
  }
  events.push(
    { event: 'content_block_stop', data: { type: 'content_block_stop', index: 0 } },
    {
      event: 'message_delta',
      data: {
        type: 'message_delta',
        delta: { stop_reason: stopReason(reply, call), stop_sequence: null },
        usage: { output_tokens: reply.outputTokens },
      },
    },
    { event: 'message_stop', data: { type: 'message_stop' } },
  );
  return events;
}

/** Anthropic's error body (`overloaded_error` for 529). https://docs.anthropic.com/en/api/errors */
export function anthropicError(status: number, message: string) {
  const type =
    status === 400
      ? 'invalid_request_error'
      : status === 401
        ? 'authentication_error'
        : status === 404
          ? 'not_found_error'
          : status === 413
            ? 'request_too_large'
            : status === 429
              ? 'rate_limit_error'
              : status === 529
                ? 'overloaded_error'
                : 'api_error';
  return { type: 'error', error: { type, message } };
}
