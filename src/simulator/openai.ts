import type { SimulatedReply } from './reply.ts';

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

function usage(reply: SimulatedReply) {
  return {
    prompt_tokens: reply.inputTokens,
    completion_tokens: reply.outputTokens,
    total_tokens: reply.inputTokens + reply.outputTokens,
  };
}

/** A `chat.completion` object, as the OpenAI API returns it. */
export function openAiCompletion(reply: SimulatedReply, model: string, created: number) {
  return {
    id: `chatcmpl-sim${reply.id}`,
    object: 'chat.completion',
    created,
    model,
    system_fingerprint: 'fp_simulated',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: reply.words.join(''), refusal: null },
        logprobs: null,
        finish_reason: reply.truncated ? 'length' : 'stop',
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
): SimEvent[] {
  const base = { id: `chatcmpl-sim${reply.id}`, object: 'chat.completion.chunk', created, model };
  const chunk = (delta: Record<string, unknown>, finish: string | null) => ({
    data: {
      ...base,
      system_fingerprint: 'fp_simulated',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    },
  });
  const events: SimEvent[] = [chunk({ role: 'assistant', content: '', refusal: null }, null)];
  for (let i = 0; i < reply.words.length; i += wordsPerChunk) {
    events.push(chunk({ content: reply.words.slice(i, i + wordsPerChunk).join('') }, null));
  }
  events.push(chunk({}, reply.truncated ? 'length' : 'stop'));
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
