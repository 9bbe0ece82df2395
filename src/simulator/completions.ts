import type { SimEvent } from './openai.ts';
import type { SimulatedReply } from './reply.ts';

/** Why a legacy completions request is invalid, or undefined. */
export function validateCompletions(body: Record<string, unknown>): string | undefined {
  if (typeof body.model !== 'string' || body.model === '') return 'you must provide a model parameter';
  const { prompt } = body;
  if (typeof prompt !== 'string' && !Array.isArray(prompt)) return "'prompt' must be a string or an array";
  return undefined;
}

/** The prompt as one user message, which the reply is derived from. */
export function promptMessages(prompt: unknown): unknown[] {
  return [{ role: 'user', content: typeof prompt === 'string' ? prompt : JSON.stringify(prompt) }];
}

function usage(reply: SimulatedReply) {
  return {
    prompt_tokens: reply.inputTokens,
    completion_tokens: reply.outputTokens,
    total_tokens: reply.inputTokens + reply.outputTokens,
  };
}

/** A `text_completion` object. https://platform.openai.com/docs/api-reference/completions/object */
export function completionsAnswer(reply: SimulatedReply, model: string, created: number) {
  return {
    id: `cmpl-sim${reply.id}`,
    object: 'text_completion',
    created,
    model,
    system_fingerprint: 'fp_simulated',
    choices: [
      {
        text: reply.words.join(''),
        index: 0,
        logprobs: null,
        finish_reason: reply.truncated ? 'length' : 'stop',
      },
    ],
    usage: usage(reply),
  };
}

/**
 * Streamed `text_completion` objects, each with a text fragment, the last with the finish reason,
 * then a `choices: []` usage chunk only when `stream_options.include_usage` asked for it (as OpenAI
 * does). The caller writes `data: [DONE]` after them.
 */
export function completionsStream(
  reply: SimulatedReply,
  model: string,
  created: number,
  wordsPerChunk: number,
  includeUsage: boolean,
): SimEvent[] {
  const base = {
    id: `cmpl-sim${reply.id}`,
    object: 'text_completion',
    created,
    model,
    system_fingerprint: 'fp_simulated',
  };
  const events: SimEvent[] = [];
  for (let i = 0; i < reply.words.length; i += wordsPerChunk) {
    const last = i + wordsPerChunk >= reply.words.length;
    const finish = last ? (reply.truncated ? 'length' : 'stop') : null;
    const text = reply.words.slice(i, i + wordsPerChunk).join('');
    events.push({ data: { ...base, choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] } });
  }
  if (includeUsage) events.push({ data: { ...base, choices: [], usage: usage(reply) } });
  return events;
}
