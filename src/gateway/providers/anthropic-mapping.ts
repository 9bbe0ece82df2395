import { BadRequestError, UpstreamError } from '../../core/errors.ts';
import { redactExcerpt } from '../../core/redact.ts';

/**
 * OpenAI chat ⇄ Anthropic Messages translation.
 * Request: https://docs.anthropic.com/en/api/messages ; OpenAI: https://platform.openai.com/docs/api-reference/chat
 */

/** Anthropic requires max_tokens; OpenAI does not. Used when the client sets none. */
export const DEFAULT_MAX_TOKENS = 4096;

type Json = Record<string, unknown>;

function isTextPart(part: unknown): part is { type: 'text'; text: string } {
  const record = part as Json | null;
  return record?.type === 'text' && typeof record.text === 'string';
}

function textParts(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content))
    throw new BadRequestError(`${where}: content must be a string or an array of parts`);
  return content
    .map((part, index) => {
      if (isTextPart(part)) return part.text;
      throw new BadRequestError(
        `${where}.content[${index}]: only text parts can go here for an Anthropic model (got ${JSON.stringify((part as Json | null)?.type)})`,
        'unsupported_content',
      );
    })
    .join('\n');
}

/** An `image_url` part as an image block: a `data:` URL inline (base64), an http(s) URL by reference. */
function imageBlock(part: Json, where: string): Json {
  const url = (part.image_url as Json | null | undefined)?.url;
  if (typeof url === 'string') {
    const inline = /^data:([^;,]+);base64,(.*)$/s.exec(url);
    if (inline) return { type: 'image', source: { type: 'base64', media_type: inline[1], data: inline[2] } };
    if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  }
  throw new BadRequestError(`${where}: image_url.url must be a data: or http(s) URL`, 'unsupported_content');
}

/** User content: a string when it is all text (as before), else text and image blocks. */
function userContent(content: unknown, where: string): unknown {
  if (!Array.isArray(content) || content.every(isTextPart)) return textParts(content, where);
  return content.map((part, index) => {
    const record = part as Json | null;
    if (isTextPart(record)) return { type: 'text', text: record.text };
    if (record?.type === 'image_url') return imageBlock(record, `${where}.content[${index}]`);
    throw new BadRequestError(
      `${where}.content[${index}]: only text and image_url parts can be sent to an Anthropic model (got ${JSON.stringify(record?.type)})`,
      'unsupported_content',
    );
  });
}

function parseArguments(text: unknown, where: string): unknown {
  if (text === undefined || text === null || text === '') return {};
  if (typeof text !== 'string')
    throw new BadRequestError(`${where}.function.arguments must be a JSON string`, 'invalid_tool_call');
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {
    // answered below
  }
  throw new BadRequestError(`${where}.function.arguments must be a JSON object`, 'invalid_tool_call');
}

/** An assistant turn: its text, then one `tool_use` block per tool call. */
function assistantContent(record: Json, where: string): unknown {
  const text = textParts(record.content, where);
  const calls = record.tool_calls;
  if (!Array.isArray(calls) || calls.length === 0) return text;
  const blocks: Json[] = text === '' ? [] : [{ type: 'text', text }];
  calls.forEach((call, index) => {
    const at = `${where}.tool_calls[${index}]`;
    const fields = call as Json | null;
    const fn = fields?.function as Json | null | undefined;
    if (typeof fields?.id !== 'string' || typeof fn?.name !== 'string') {
      throw new BadRequestError(`${at} needs a string 'id' and 'function.name'`, 'invalid_tool_call');
    }
    blocks.push({ type: 'tool_use', id: fields.id, name: fn.name, input: parseArguments(fn.arguments, at) });
  });
  return blocks;
}

function toolResult(record: Json, where: string): Json {
  if (typeof record.tool_call_id !== 'string') {
    throw new BadRequestError(`${where}.role = "tool" needs a string 'tool_call_id'`, 'invalid_tool_result');
  }
  return { type: 'tool_result', tool_use_id: record.tool_call_id, content: textParts(record.content, where) };
}

/** Chat `tools` (functions only) as Messages tools. */
function anthropicTools(tools: unknown): Json[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw new BadRequestError("'tools' must be an array", 'invalid_tools');
  return tools.map((tool, index) => {
    const fn = (tool as Json | null)?.function as Json | null | undefined;
    if ((tool as Json | null)?.type !== 'function' || typeof fn?.name !== 'string') {
      throw new BadRequestError(
        `tools[${index}] must be {type: "function", function: {name, parameters}}`,
        'invalid_tools',
      );
    }
    const out: Json = { name: fn.name, input_schema: fn.parameters ?? { type: 'object', properties: {} } };
    if (typeof fn.description === 'string') out.description = fn.description;
    return out;
  });
}

/** Chat `tool_choice` (+ `parallel_tool_calls: false`) as the Messages one. */
function anthropicToolChoice(choice: unknown, parallel: unknown): Json | undefined {
  let mapped: Json | undefined;
  if (choice === 'auto') mapped = { type: 'auto' };
  else if (choice === 'required') mapped = { type: 'any' };
  else if (choice === 'none') mapped = { type: 'none' };
  else if (typeof choice === 'object' && choice !== null) {
    const name = ((choice as Json).function as Json | undefined)?.name;
    if (typeof name !== 'string')
      throw new BadRequestError('tool_choice.function.name must be a string', 'invalid_tools');
    mapped = { type: 'tool', name };
  } else if (choice !== undefined && choice !== null) {
    throw new BadRequestError(
      "tool_choice must be 'auto', 'required', 'none' or {type:'function', function:{name}}",
      'invalid_tools',
    );
  }
  if (parallel === false && mapped?.type !== 'none')
    return { ...(mapped ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return mapped;
}

/**
 * The Messages API request for an OpenAI chat request: system and developer messages become
 * `system`, assistant `tool_calls` become `tool_use` blocks, `role: "tool"` messages become
 * `tool_result` blocks of one user turn (consecutive results share it), `tools`/`tool_choice` map
 * to their Messages shapes.
 */
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
    else if (role === 'user') out.push({ role, content: userContent(record?.content, where) });
    else if (role === 'assistant') out.push({ role, content: assistantContent(record as Json, where) });
    else if (role === 'tool') {
      const result = toolResult(record as Json, where);
      const previous = out.at(-1);
      const results =
        previous?.role === 'user' && Array.isArray(previous.content) ? previous.content : undefined;
      if (results?.every((block) => (block as Json).type === 'tool_result')) results.push(result);
      else out.push({ role: 'user', content: [result] });
    } else {
      throw new BadRequestError(
        `${where}.role = ${JSON.stringify(role)} cannot be sent to an Anthropic model (system, developer, user, assistant, tool)`,
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
  const tools = anthropicTools(request.tools);
  if (tools) body.tools = tools;
  const toolChoice = anthropicToolChoice(request.tool_choice, request.parallel_tool_calls);
  if (toolChoice) body.tool_choice = toolChoice;
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

/**
 * OpenAI usage for Anthropic counts, in OpenAI's meaning: the prompt includes cached tokens (Anthropic's
 * `input_tokens` does not), and `prompt_tokens_details.cached_tokens` is the cache reads.
 */
function usage(input: number, output: number, cacheRead = 0, cacheWrite = 0) {
  const prompt = input + cacheRead + cacheWrite;
  const base = { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output };
  return cacheRead + cacheWrite > 0 ? { ...base, prompt_tokens_details: { cached_tokens: cacheRead } } : base;
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
  const toolCalls = message.content
    .filter((block) => (block as Json)?.type === 'tool_use')
    .map((block) => {
      const { id, name, input } = block as Json;
      return { id, type: 'function', function: { name, arguments: JSON.stringify(input ?? {}) } };
    });
  const u = (message.usage ?? {}) as Json;
  return {
    id: typeof message.id === 'string' ? message.id : 'msg_unknown',
    object: 'chat.completion',
    created,
    model: message.model,
    choices: [
      {
        index: 0,
        message:
          toolCalls.length > 0
            ? { role: 'assistant', content: text === '' ? null : text, tool_calls: toolCalls, refusal: null }
            : { role: 'assistant', content: text, refusal: null },
        logprobs: null,
        finish_reason: finishReason(message.stop_reason),
      },
    ],
    usage: usage(
      count(u.input_tokens),
      count(u.output_tokens),
      count(u.cache_read_input_tokens),
      count(u.cache_creation_input_tokens),
    ),
  };
}

/**
 * Messages stream events → OpenAI `chat.completion.chunk`s: a role chunk at message_start, a content
 * chunk per text delta, a `tool_calls` chunk per tool_use block start and per `input_json_delta`, a
 * finish chunk at message_delta, and a usage chunk (empty choices) at message_stop (the gateway
 * passes it on only to clients that asked for usage). A stream that ends without message_stop, or an `error` event, is an upstream error.
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
  let cacheRead = 0;
  let cacheWrite = 0;
  // Messages block index → chat tool_calls index.
  const toolIndex = new Map<unknown, number>();
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
        cacheRead = count(u.cache_read_input_tokens);
        cacheWrite = count(u.cache_creation_input_tokens);
        yield chunk({ role: 'assistant', content: '' }, null);
        break;
      }
      case 'content_block_start': {
        const block = (event.content_block ?? {}) as Json;
        if (block.type !== 'tool_use') break;
        const index = toolIndex.size;
        toolIndex.set(event.index, index);
        const call = { index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } };
        yield chunk({ tool_calls: [call] }, null);
        break;
      }
      case 'content_block_delta': {
        const delta = (event.delta ?? {}) as Json;
        if (delta.type === 'text_delta' && typeof delta.text === 'string')
          yield chunk({ content: delta.text }, null);
        const index = toolIndex.get(event.index);
        if (
          delta.type === 'input_json_delta' &&
          typeof delta.partial_json === 'string' &&
          index !== undefined
        )
          yield chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] }, null);
        break;
      }
      case 'message_delta': {
        const u = (event.usage ?? {}) as Json;
        if (u.output_tokens !== undefined) output = count(u.output_tokens);
        if (u.input_tokens !== undefined) input = count(u.input_tokens);
        if (u.cache_read_input_tokens !== undefined) cacheRead = count(u.cache_read_input_tokens);
        if (u.cache_creation_input_tokens !== undefined) cacheWrite = count(u.cache_creation_input_tokens);
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
          usage: usage(input, output, cacheRead, cacheWrite),
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
        // ping, content_block_stop, and event types added later: nothing to forward.
        break;
    }
  }
  throw new UpstreamError(`Provider '${provider}' ended the stream before message_stop`, 0);
}
