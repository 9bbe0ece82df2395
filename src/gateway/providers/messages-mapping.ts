import { BadRequestError, UpstreamError } from '../../core/errors.ts';

/**
 * Anthropic Messages ⇄ OpenAI chat, for `/v1/messages` calls routed to an OpenAI-compatible
 * provider: the reverse of `anthropic-mapping.ts`. Usage follows OpenAI's meaning on the way in
 * (`prompt_tokens` includes `cached_tokens`) and Anthropic's on the way out (`input_tokens` excludes
 * the cache reads, which go to `cache_read_input_tokens`).
 */

type Json = Record<string, unknown>;

function record(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null ? (value as Json) : undefined;
}

function blocks(content: unknown, where: string): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content))
    throw new BadRequestError(`${where}.content must be a string or an array of blocks`, 'invalid_messages');
  return content.map((block, index) => {
    const fields = record(block);
    if (!fields || typeof fields.type !== 'string')
      throw new BadRequestError(
        `${where}.content[${index}] must be a block with a 'type'`,
        'invalid_messages',
      );
    return fields;
  });
}

function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block) => (record(block)?.type === 'text' ? String(record(block)?.text ?? '') : ''))
    .join('');
}

/** An image block as a chat `image_url` part (base64 → a data: URL). */
function imagePart(block: Json, where: string): Json {
  const source = record(block.source);
  if (source?.type === 'base64')
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  if (source?.type === 'url' && typeof source.url === 'string')
    return { type: 'image_url', image_url: { url: source.url } };
  throw new BadRequestError(
    `${where}: only base64 and url image sources can be sent to this provider`,
    'unsupported_content',
  );
}

function userMessages(content: unknown, where: string): Json[] {
  const out: Json[] = [];
  const parts: Json[] = [];
  blocks(content, where).forEach((block, index) => {
    const at = `${where}.content[${index}]`;
    if (block.type === 'tool_result') {
      const result = typeof block.content === 'string' ? block.content : text(block.content);
      out.push({
        role: 'tool',
        tool_call_id: block.tool_use_id,
        content: block.is_error === true ? `Error: ${result}` : result,
      });
    } else if (block.type === 'text') parts.push({ type: 'text', text: String(block.text ?? '') });
    else if (block.type === 'image') parts.push(imagePart(block, at));
    else
      throw new BadRequestError(
        `${at}: block type ${JSON.stringify(block.type)} cannot be sent to this provider`,
        'unsupported_content',
      );
  });
  // Tool results answer the previous assistant turn, so they come first.
  if (parts.length > 0) {
    const onlyText = parts.every((part) => part.type === 'text');
    out.push({ role: 'user', content: onlyText ? parts.map((part) => part.text).join('') : parts });
  }
  return out;
}

function assistantMessage(content: unknown, where: string): Json {
  let said = '';
  const calls: Json[] = [];
  for (const block of blocks(content, where)) {
    if (block.type === 'text') said += String(block.text ?? '');
    else if (block.type === 'tool_use') {
      calls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
    // thinking blocks carry the provider's own signature: nothing an OpenAI model can read.
  }
  return calls.length > 0
    ? { role: 'assistant', content: said === '' ? null : said, tool_calls: calls }
    : { role: 'assistant', content: said };
}

function chatToolChoice(choice: unknown): { tool_choice?: unknown; parallel_tool_calls?: boolean } {
  const fields = record(choice);
  if (!fields) return {};
  const parallel = fields.disable_parallel_tool_use === true ? { parallel_tool_calls: false } : {};
  switch (fields.type) {
    case 'auto':
      return { tool_choice: 'auto', ...parallel };
    case 'any':
      return { tool_choice: 'required', ...parallel };
    case 'none':
      return { tool_choice: 'none' };
    case 'tool':
      return { tool_choice: { type: 'function', function: { name: fields.name } }, ...parallel };
    default:
      return {};
  }
}

/** The chat request for a Messages request (model from the context: a fallback may have changed it). */
export function toChatRequest(request: Readonly<Json>, model: string, stream: boolean): Json {
  const messages: Json[] = [];
  if (request.system !== undefined) messages.push({ role: 'system', content: text(request.system) });
  (request.messages as unknown[]).forEach((message, index) => {
    const fields = record(message) ?? {};
    const where = `messages[${index}]`;
    if (fields.role === 'assistant') messages.push(assistantMessage(fields.content, where));
    else if (fields.role === 'system') messages.push({ role: 'system', content: text(fields.content) });
    else messages.push(...userMessages(fields.content, where));
  });
  const body: Json = { model, messages, max_tokens: request.max_tokens };
  for (const name of ['temperature', 'top_p'] as const)
    if (typeof request[name] === 'number') body[name] = request[name];
  if (Array.isArray(request.stop_sequences)) body.stop = request.stop_sequences;
  if (Array.isArray(request.tools)) {
    body.tools = request.tools.map((tool) => {
      const fields = record(tool) ?? {};
      const fn: Json = {
        name: fields.name,
        parameters: fields.input_schema ?? { type: 'object', properties: {} },
      };
      if (typeof fields.description === 'string') fn.description = fields.description;
      return { type: 'function', function: fn };
    });
  }
  Object.assign(body, chatToolChoice(request.tool_choice));
  const user = record(request.metadata)?.user_id;
  if (typeof user === 'string') body.user = user;
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  return body;
}

/** OpenAI finish_reason → Anthropic stop_reason. */
export function stopReason(finish: unknown): string {
  switch (finish) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/** Messages usage for OpenAI usage: cached prompt tokens move from `input_tokens` to `cache_read_input_tokens`. */
function messagesUsage(usage: unknown): Json {
  const fields = record(usage) ?? {};
  const prompt = typeof fields.prompt_tokens === 'number' ? fields.prompt_tokens : 0;
  const cached = record(fields.prompt_tokens_details)?.cached_tokens;
  const read = typeof cached === 'number' ? cached : 0;
  return {
    input_tokens: Math.max(0, prompt - read),
    output_tokens: typeof fields.completion_tokens === 'number' ? fields.completion_tokens : 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: read,
  };
}

function parsedInput(text: unknown): unknown {
  if (typeof text !== 'string' || text === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

/** A `chat.completion` as a Messages `message`. */
export function fromChatCompletion(provider: string, reply: unknown): Json {
  const body = record(reply);
  const choice = record(Array.isArray(body?.choices) ? body.choices[0] : undefined);
  const message = record(choice?.message);
  if (!body || !message) throw new UpstreamError(`Provider '${provider}' sent a reply without choices`, 0);
  const content: Json[] = [];
  if (typeof message.content === 'string' && message.content !== '')
    content.push({ type: 'text', text: message.content });
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      const fn = record(record(call)?.function);
      content.push({
        type: 'tool_use',
        id: record(call)?.id,
        name: fn?.name,
        input: parsedInput(fn?.arguments),
      });
    }
  }
  return {
    id: `msg_${String(body.id ?? 'unknown').replace(/^chatcmpl-/, '')}`,
    type: 'message',
    role: 'assistant',
    model: body.model,
    content,
    stop_reason: stopReason(choice?.finish_reason),
    stop_sequence: null,
    usage: messagesUsage(body.usage),
  };
}

/**
 * `chat.completion.chunk`s → the Messages event sequence: `message_start` at the first chunk, a text
 * block (`content_block_start`, `text_delta`s, `content_block_stop`) and one `tool_use` block per tool
 * call (`input_json_delta`s), then `message_delta` with the stop reason and usage once the chunks end
 * (the usage chunk comes after the finish chunk), and `message_stop`.
 */
export async function* fromChatStream(
  provider: string,
  chunks: AsyncIterable<unknown>,
): AsyncGenerator<Json> {
  let started = false;
  let open: { index: number; key: string } | undefined;
  let nextIndex = 0;
  let finish: unknown;
  let usage: unknown;
  const close = function* () {
    if (open) yield { type: 'content_block_stop', index: open.index };
    open = undefined;
  };
  for await (const value of chunks) {
    const chunk = record(value) ?? {};
    if (!started) {
      started = true;
      const id = `msg_${String(chunk.id ?? 'unknown').replace(/^chatcmpl-/, '')}`;
      yield {
        type: 'message_start',
        message: {
          id,
          type: 'message',
          role: 'assistant',
          model: chunk.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      };
    }
    if (chunk.usage) usage = chunk.usage;
    const choice = record(Array.isArray(chunk.choices) ? chunk.choices[0] : undefined);
    if (!choice) continue;
    if (choice.finish_reason) finish = choice.finish_reason;
    const delta = record(choice.delta) ?? {};
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (open?.key !== 'text') {
        yield* close();
        open = { index: nextIndex++, key: 'text' };
        yield { type: 'content_block_start', index: open.index, content_block: { type: 'text', text: '' } };
      }
      yield {
        type: 'content_block_delta',
        index: open.index,
        delta: { type: 'text_delta', text: delta.content },
      };
    }
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
      const fields = record(call) ?? {};
      const fn = record(fields.function) ?? {};
      const key = `tool:${fields.index ?? 0}`;
      if (open?.key !== key) {
        yield* close();
        open = { index: nextIndex++, key };
        yield {
          type: 'content_block_start',
          index: open.index,
          content_block: { type: 'tool_use', id: fields.id, name: fn.name, input: {} },
        };
      }
      if (typeof fn.arguments === 'string' && fn.arguments !== '')
        yield {
          type: 'content_block_delta',
          index: open.index,
          delta: { type: 'input_json_delta', partial_json: fn.arguments },
        };
    }
  }
  if (!started) throw new UpstreamError(`Provider '${provider}' sent an empty stream`, 0);
  yield* close();
  const counts = messagesUsage(usage);
  yield {
    type: 'message_delta',
    delta: { stop_reason: stopReason(finish), stop_sequence: null },
    usage: counts,
  };
  yield { type: 'message_stop' };
}
