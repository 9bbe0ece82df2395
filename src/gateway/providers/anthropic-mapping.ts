import { BadRequestError, UpstreamError } from '../../core/errors.ts';
import { redactExcerpt } from '../../core/redact.ts';

/**
 * OpenAI chat ⇄ Anthropic Messages translation.
 * Request: https://docs.anthropic.com/en/api/messages ; OpenAI: https://platform.openai.com/docs/api-reference/chat
 */

/** Anthropic requires max_tokens; OpenAI does not. Used when the client sets none. */
export const DEFAULT_MAX_TOKENS = 4096;

type Json = Record<string, unknown>;

function textParts(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content))
    throw new BadRequestError(`${where}: content must be a string or an array of parts`);
  return content
    .map((part, index) => {
      const record = part as Json | null;
      if (record?.type === 'text' && typeof record.text === 'string') return record.text;
      throw new BadRequestError(
        `${where}.content[${index}]: only text parts can be sent to an Anthropic model (got ${JSON.stringify(record?.type)})`,
        'unsupported_content',
      );
    })
    .join('\n');
}

/** The Messages API request for an OpenAI chat request. */
export function toAnthropicRequest(request: Readonly<Json>, model: string, stream: boolean): Json {
  const messages = request.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new BadRequestError("'messages' must be a non-empty array", 'invalid_messages');
  }
  const system: string[] = [];
  const out: Json[] = [];
  messages.forEach((message, index) => {
    const record = message as Json | null;
    const role = record?.role;
    const where = `messages[${index}]`;
    if (role === 'system' || role === 'developer') system.push(textParts(record?.content, where));
    else if (role === 'user' || role === 'assistant')
      out.push({ role, content: textParts(record?.content, where) });
    else {
      throw new BadRequestError(
        `${where}.role = ${JSON.stringify(role)} cannot be sent to an Anthropic model (system, developer, user, assistant)`,
        'unsupported_role',
      );
    }
  });
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  const body: Json = {
    model,
    messages: out,
    max_tokens: typeof maxTokens === 'number' && maxTokens > 0 ? maxTokens : DEFAULT_MAX_TOKENS,
  };
  if (system.length > 0) body.system = system.join('\n\n');
  // OpenAI temperature is 0..2, Anthropic's 0..1.
  if (typeof request.temperature === 'number')
    body.temperature = Math.min(1, Math.max(0, request.temperature));
  if (typeof request.top_p === 'number') body.top_p = request.top_p;
  if (typeof request.stop === 'string') body.stop_sequences = [request.stop];
  else if (Array.isArray(request.stop))
    body.stop_sequences = request.stop.filter((s) => typeof s === 'string');
  if (stream) body.stream = true;
  return body;
}

/** Anthropic stop_reason → OpenAI finish_reason. */
export function finishReason(stopReason: unknown): string | null {
  switch (stopReason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    case null:
    case undefined:
      return null;
    default:
      return 'stop';
  }
}

function usage(input: number, output: number) {
  return { prompt_tokens: input, completion_tokens: output, total_tokens: input + output };
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** A Messages reply as an OpenAI `chat.completion`. */
export function fromAnthropicMessage(provider: string, reply: unknown, created: number): Json {
  const message = reply as Json | null;
  if (message?.type !== 'message' || !Array.isArray(message.content)) {
    throw new UpstreamError(`Provider '${provider}' sent a reply that is not a Messages API message`, 0);
  }
  const text = message.content
    .filter((block) => (block as Json)?.type === 'text')
    .map((block) => String((block as Json).text ?? ''))
    .join('');
  const u = (message.usage ?? {}) as Json;
  return {
    id: typeof message.id === 'string' ? message.id : 'msg_unknown',
    object: 'chat.completion',
    created,
    model: message.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: text, refusal: null },
        logprobs: null,
        finish_reason: finishReason(message.stop_reason),
      },
    ],
    usage: usage(count(u.input_tokens), count(u.output_tokens)),
  };
}

/**
 * Messages stream events → OpenAI `chat.completion.chunk`s: a role chunk at message_start, a content
 * chunk per text delta, a finish chunk at message_delta, and a usage chunk (empty choices) at
 * message_stop. A stream that ends without message_stop, or an `error` event, is an upstream error.
 */
export async function* fromAnthropicStream(
  provider: string,
  events: AsyncIterable<{ event?: string; data: unknown }>,
  created: number,
): AsyncGenerator<Json> {
  let id = 'msg_unknown';
  let model: unknown;
  let input = 0;
  let output = 0;
  const chunk = (delta: Json, finish: string | null): Json => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  for await (const { data } of events) {
    const event = data as Json;
    switch (event.type) {
      case 'message_start': {
        const message = (event.message ?? {}) as Json;
        if (typeof message.id === 'string') id = message.id;
        model = message.model;
        const u = (message.usage ?? {}) as Json;
        input = count(u.input_tokens);
        output = count(u.output_tokens);
        yield chunk({ role: 'assistant', content: '' }, null);
        break;
      }
      case 'content_block_delta': {
        const delta = (event.delta ?? {}) as Json;
        if (delta.type === 'text_delta' && typeof delta.text === 'string')
          yield chunk({ content: delta.text }, null);
        break;
      }
      case 'message_delta': {
        const u = (event.usage ?? {}) as Json;
        if (u.output_tokens !== undefined) output = count(u.output_tokens);
        if (u.input_tokens !== undefined) input = count(u.input_tokens);
        yield chunk({}, finishReason(((event.delta ?? {}) as Json).stop_reason) ?? 'stop');
        break;
      }
      case 'message_stop':
        yield {
          id,
          object: 'chat.completion.chunk',
          created,
          model,
          choices: [],
          usage: usage(input, output),
        };
        return;
      case 'error': {
        const error = (event.error ?? {}) as Json;
        const status = error.type === 'overloaded_error' ? 529 : error.type === 'rate_limit_error' ? 429 : 0;
        throw new UpstreamError(
          `Provider '${provider}' failed mid-stream: ${typeof error.message === 'string' ? redactExcerpt(error.message) : 'error event'}`,
          status,
        );
      }
      default:
        // ping, content_block_start/stop, and event types added later: nothing to forward.
        break;
    }
  }
  throw new UpstreamError(`Provider '${provider}' ended the stream before message_stop`, 0);
}
