import type { ErrorBody } from '../core/errors.ts';
import type { TokenUsage } from '../core/result.ts';
import { asRecord, count, firstCount, stringField } from './fields.ts';
import type { StreamReader, WireFormat } from './types.ts';

/**
 * Request fields of OpenAI-style APIs that never change the answer: caller ids and bookkeeping
 * (`user`, `safety_identifier`, `metadata`, `store`, `service_tier`, `prompt_cache_key`,
 * `prompt_cache_retention`), plus `model` and `stream`, which a cache key carries on their own.
 * Everything else (messages, tools, temperature, max tokens, response format, seed, n, stop,
 * stream_options...) is kept: an unknown field is assumed to change the output.
 */
export const OPENAI_IGNORED_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'stream',
  'user',
  'safety_identifier',
  'metadata',
  'store',
  'service_tier',
  'prompt_cache_key',
  'prompt_cache_retention',
]);

/**
 * Usage in OpenAI's shape (`prompt_tokens`/`completion_tokens`) or the Responses/Anthropic one
 * (`input_tokens`/`output_tokens`). Undefined when the value carries none.
 */
export function usageIn(value: unknown): TokenUsage | undefined {
  const usage = asRecord(asRecord(value)?.usage);
  if (!usage) return undefined;
  const input = firstCount(usage, 'prompt_tokens', 'input_tokens');
  const output = firstCount(usage, 'completion_tokens', 'output_tokens');
  if (input === undefined && output === undefined) return undefined;
  return { inputTokens: input ?? 0, outputTokens: output ?? 0 };
}

/** `choices[].finish_reason` values, appended to `into` (chat and legacy completions alike). */
export function collectFinishReasons(value: unknown, into: string[]): void {
  const choices = asRecord(value)?.choices;
  if (!Array.isArray(choices)) return;
  for (const choice of choices) {
    const reason = asRecord(choice)?.finish_reason;
    if (typeof reason === 'string') into.push(reason);
  }
}

/** Text of `choices[].message.content` (a body) or `choices[].delta.content` (a chunk). */
function choiceText(value: unknown): string {
  const choices = asRecord(value)?.choices;
  if (!Array.isArray(choices)) return '';
  let text = '';
  for (const choice of choices) {
    const holder = asRecord(asRecord(choice)?.delta ?? asRecord(choice)?.message);
    const content = holder?.content;
    if (typeof content === 'string') text += content;
  }
  return text;
}

/** OpenAI's error body: `{"error":{"message","type","code"}}`, as the pack's own errors render. */
export function openAiErrorBody(error: ErrorBody): unknown {
  return error;
}

/**
 * A stream of OpenAI-style chunks with `choices` (chat completions, legacy completions): the first
 * chunk names the model and id, any may carry usage and finish reasons, `textOf` reads a chunk's text.
 * The chunks have no end marker of their own (the SSE `[DONE]` ends them), so `sawEnd` is true once
 * any chunk arrived.
 */
export class ChoicesStreamReader implements StreamReader {
  usage: TokenUsage | undefined;
  responseModel: string | undefined;
  responseId: string | undefined;
  readonly finishReasons: string[] = [];
  sawEnd = false;
  readonly #textOf: (chunk: unknown) => string;

  constructor(textOf: (chunk: unknown) => string) {
    this.#textOf = textOf;
  }

  read(chunk: unknown): string {
    if (!this.sawEnd) {
      this.sawEnd = true;
      this.responseModel = stringField(chunk, 'model');
      this.responseId = stringField(chunk, 'id');
    }
    this.usage = usageIn(chunk) ?? this.usage;
    collectFinishReasons(chunk, this.finishReasons);
    return this.#textOf(chunk);
  }
}

/** OpenAI chat completions (`POST /v1/chat/completions`), the canonical shape of the pack. */
export const openAiChat: WireFormat = {
  api: 'openai.chat',
  operation: 'chat',
  ignoredFields: OPENAI_IGNORED_FIELDS,
  usage: usageIn,
  responseModel: (body) => stringField(body, 'model'),
  responseId: (body) => stringField(body, 'id'),
  finishReasons(body) {
    const reasons: string[] = [];
    collectFinishReasons(body, reasons);
    return reasons;
  },
  outputText: choiceText,
  maxOutputTokens: (request) => count(request.max_completion_tokens) ?? count(request.max_tokens),
  // Chat streams end with the SSE `[DONE]` sentinel, checked where SSE is parsed. Anthropic-shaped
  // events (an SDK stream passed through a chat route) are whole only up to `message_stop`.
  streamComplete(chunks) {
    if (chunks.length === 0) return false;
    if (stringField(chunks[0], 'type') === 'message_start') {
      return stringField(chunks[chunks.length - 1], 'type') === 'message_stop';
    }
    return true;
  },
  streamReader: () => new ChoicesStreamReader(choiceText),
  errorBody: openAiErrorBody,
};
