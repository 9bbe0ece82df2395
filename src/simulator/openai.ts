import type { SimulatedReply } from './reply.ts';
import { type SimulatedToolCall, simulatedToolCall } from './tools.ts';

/** One SSE event to write: an optional `event:` name and its JSON data (or a raw string). */
export interface SimEvent {
  readonly event?: string;
  readonly data: unknown;
}

/** Why an OpenAI chat request is invalid, or undefined (the checks OpenAI makes before anything else). */
export function validateOpenAi(body: Record<string, unknown>): string | undefined {
  if (typeof body.model !== 'string' || body.model === '') return 'you must provide a model parameter';
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return "'messages' must be a non-empty array";
  }
  return undefined;
}

export function maxTokensOpenAi(body: Record<string, unknown>): number | undefined {
  const value = body.max_completion_tokens ?? body.max_tokens;
  return typeof value === 'number' ? value : undefined;
}

/** The chat tool call the model makes: when tools are offered and the last message is not a tool's result. */
export function chatToolCall(
  body: Record<string, unknown>,
  reply: SimulatedReply,
): SimulatedToolCall | undefined {
  const messages = body.messages as unknown[];
  const last = messages.at(-1) as Record<string, unknown> | null;
  return simulatedToolCall(body.tools, last?.role === 'tool', reply, (tool) => {
    const fn = tool.function as Record<string, unknown> | undefined;
    return { name: fn?.name, schema: fn?.parameters };
  });
}

function toolCall(call: SimulatedToolCall) {
  return {
    id: `call_sim${call.id}`,
    type: 'function',
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  };
}

function finishReason(reply: SimulatedReply, call: SimulatedToolCall | undefined): string {
  return call ? 'tool_calls' : reply.truncated ? 'length' : 'stop';
}

function usage(reply: SimulatedReply) {
  return {
    prompt_tokens: reply.inputTokens,
    completion_tokens: reply.outputTokens,
    total_tokens: reply.inputTokens + reply.outputTokens,
  };
}

/** A `chat.completion` object, as the OpenAI API returns it. */
export function openAiCompletion(
  reply: SimulatedReply,
  model: string,
  created: number,
  call?: SimulatedToolCall,
) {
  const message = call
    ? { role: 'assistant', content: null, tool_calls: [toolCall(call)], refusal: null }
    : { role: 'assistant', content: reply.words.join(''), refusal: null };
  return {
    id: `chatcmpl-sim${reply.id}`,
    object: 'chat.completion',
    created,
    model,
    system_fingerprint: 'fp_simulated',
    choices: [
      {
        index: 0,
        message,
        logprobs: null,
        finish_reason: finishReason(reply, call),
      },
    ],
    usage: usage(reply),
  };
}

/**
 * `chat.completion.chunk` events: a role chunk, content chunks, a finish chunk, then (unless the
 * request set `stream_options.include_usage: false`) a usage chunk with empty `choices`, as OpenAI
 * sends with `include_usage: true`. The caller writes `data: [DONE]` after them.
 */
export function openAiStream(
  reply: SimulatedReply,
  model: string,
  created: number,
  wordsPerChunk: number,
  includeUsage: boolean,
  call?: SimulatedToolCall,
): SimEvent[] {
  const base = { id: `chatcmpl-sim${reply.id}`, object: 'chat.completion.chunk', created, model };
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    data: {
      ...base,
      system_fingerprint: 'fp_simulated',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    },
  });
  const events: SimEvent[] = [chunk({ role: 'assistant', content: call ? null : '', refusal: null }, null)];
  if (call) {
    const { id, type, function: fn } = toolCall(call);
    events.push(
      chunk({ tool_calls: [{ index: 0, id, type, function: { name: fn.name, arguments: '' } }] }, null),
    );
    events.push(chunk({ tool_calls: [{ index: 0, function: { arguments: fn.arguments } }] }, null));
  } else {
    for (let i = 0; i < reply.words.length; i += wordsPerChunk) {
      events.push(chunk({ content: reply.words.slice(i, i + wordsPerChunk).join('') }, null));
    }
  }
  events.push(chunk({}, finishReason(reply, call)));
  if (includeUsage) events.push({ data: { ...base, choices: [], usage: usage(reply) } });
  return events;
}

/** OpenAI's error body. https://platform.openai.com/docs/guides/error-codes */
export function openAiError(status: number, message: string) {
  const type =
    status === 429
      ? 'rate_limit_exceeded'
      : status === 401
        ? 'invalid_request_error'
        : status >= 500
          ? 'server_error'
          : 'invalid_request_error';
  const code = status === 429 ? 'rate_limit_exceeded' : status === 401 ? 'invalid_api_key' : null;
  return { error: { message, type, param: null, code } };
}
