import type { ErrorBody, ErrorType } from '../core/errors.ts';
import type { TokenUsage } from '../core/result.ts';
import { asRecord, count, stringField } from './fields.ts';
import type { StreamReader, WireFormat } from './types.ts';

/** Usage with Anthropic's prompt-cache counts, which pricing reads (cache reads and writes cost differently). */
export interface CachedTokenUsage extends TokenUsage {
  /** `cache_read_input_tokens`: prompt tokens served from the provider's prompt cache. */
  readonly cacheReadTokens: number;
  /** `cache_creation_input_tokens`: prompt tokens written to the provider's prompt cache. */
  readonly cacheWriteTokens: number;
}

/**
 * Usage of a Message (or a stream's `message_start`/`message_delta` usage), in OpenAI's meaning:
 * Anthropic's `input_tokens` excludes cached tokens, so the prompt is input + cache reads + cache
 * writes (as OpenAI's `prompt_tokens` includes its `cached_tokens`).
 */
export function anthropicUsage(usage: unknown): CachedTokenUsage | undefined {
  const record = asRecord(usage);
  if (!record) return undefined;
  const input = count(record.input_tokens);
  const output = count(record.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  const cacheReadTokens = count(record.cache_read_input_tokens) ?? 0;
  const cacheWriteTokens = count(record.cache_creation_input_tokens) ?? 0;
  return {
    inputTokens: (input ?? 0) + cacheReadTokens + cacheWriteTokens,
    outputTokens: output ?? 0,
    cacheReadTokens,
    cacheWriteTokens,
  };
}

function textOf(content: unknown): string {
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const block of content) {
    const record = asRecord(block);
    if (record?.type === 'text' && typeof record.text === 'string') text += record.text;
  }
  return text;
}

class MessagesStreamReader implements StreamReader {
  responseModel: string | undefined;
  responseId: string | undefined;
  readonly finishReasons: string[] = [];
  sawEnd = false;
  #start: CachedTokenUsage | undefined;
  #delta: CachedTokenUsage | undefined;

  /** `message_start` has the input counts; `message_delta` the final output (and sometimes input) totals. */
  get usage(): CachedTokenUsage | undefined {
    const start = this.#start;
    const delta = this.#delta;
    if (!delta) return start;
    if (!start) return delta;
    // Counts are cumulative: the later report wins where it has one (the SDK overwrites, too).
    const input = delta.inputTokens > 0 ? delta : start;
    return { ...input, outputTokens: delta.outputTokens };
  }

  read(chunk: unknown): string {
    const event = asRecord(chunk);
    switch (event?.type) {
      case 'message_start': {
        const message = asRecord(event.message);
        this.responseModel = stringField(message, 'model');
        this.responseId = stringField(message, 'id');
        this.#start = anthropicUsage(message?.usage);
        return '';
      }
      case 'content_block_delta': {
        const delta = asRecord(event.delta);
        if (delta?.type !== 'text_delta' || typeof delta.text !== 'string') return '';
        return delta.text;
      }
      case 'message_delta': {
        const reason = stringField(event.delta, 'stop_reason');
        if (reason) this.finishReasons.push(reason);
        this.#delta = anthropicUsage(event.usage) ?? this.#delta;
        return '';
      }
      case 'message_stop':
        this.sawEnd = true;
        return '';
      default:
        return '';
    }
  }
}

/** Anthropic's `error.type` for each of our error types (https://docs.claude.com/en/api/errors). */
const ANTHROPIC_ERROR_TYPES: Record<ErrorType, string> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'authentication_error',
  rate_limit_error: 'rate_limit_error',
  // Over a spend budget: a 429 to Anthropic's SDKs (their RateLimitError), as a provider's quota is.
  insufficient_quota: 'rate_limit_error',
  service_unavailable: 'overloaded_error',
  timeout_error: 'timeout_error',
  upstream_error: 'api_error',
  server_error: 'api_error',
};

/** `{"type":"error","error":{"type","message"}}`, Anthropic's error body (and stream error event). */
export function anthropicErrorBody(error: ErrorBody): unknown {
  const { type, code, message } = error.error;
  const mapped =
    code === 'payload_too_large' ? 'request_too_large' : (ANTHROPIC_ERROR_TYPES[type] ?? 'api_error');
  return { type: 'error', error: { type: mapped, message } };
}

/**
 * Anthropic Messages (`POST /v1/messages`): `system` + `messages` in, content blocks out, `stop_reason`,
 * usage with prompt-cache reads and writes. Streams are named events `message_start` …
 * `message_stop` (no `[DONE]`); the Anthropic SDK drops events without an `event:` line.
 */
export const anthropicMessages: WireFormat = {
  api: 'anthropic.messages',
  operation: 'chat',
  // `metadata.user_id` and the service tier never change the answer.
  ignoredFields: new Set(['model', 'stream', 'metadata', 'service_tier']),
  usage: (body) => anthropicUsage(asRecord(body)?.usage),
  responseModel: (body) => stringField(body, 'model'),
  responseId: (body) => stringField(body, 'id'),
  finishReasons(body) {
    const reason = stringField(body, 'stop_reason');
    return reason ? [reason] : [];
  },
  outputText: (body) => textOf(asRecord(body)?.content),
  maxOutputTokens: (request) => count(request.max_tokens),
  // Whole from message_start to message_stop.
  streamComplete: (chunks) =>
    stringField(chunks[0], 'type') === 'message_start' &&
    stringField(chunks.at(-1), 'type') === 'message_stop',
  streamReader: () => new MessagesStreamReader(),
  errorBody: anthropicErrorBody,
  sse: { eventName: (chunk) => stringField(chunk, 'type'), errorEvent: anthropicErrorBody },
};
