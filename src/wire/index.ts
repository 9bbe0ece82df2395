import type { Operation } from '../core/context.ts';
import { anthropicMessages } from './anthropic-messages.ts';
import { openAiChat } from './openai-chat.ts';
import { openAiCompletions } from './openai-completions.ts';
import { openAiEmbeddings } from './openai-embeddings.ts';
import { openAiResponses } from './openai-responses.ts';
import type { WireApi, WireFormat } from './types.ts';

export type { CachedTokenUsage } from './anthropic-messages.ts';
export { anthropicErrorBody, anthropicMessages, anthropicUsage } from './anthropic-messages.ts';

export type { HeaderLookup, StatusFault } from './http.ts';
export {
  capacityPauseMs,
  headerLookup,
  headerOf,
  parseDuration,
  parseRetryAfter,
  retryAfterMs,
  retryAfterSeconds,
  statusFault,
} from './http.ts';
export { OPENAI_IGNORED_FIELDS, openAiChat, usageIn } from './openai-chat.ts';
export { openAiCompletions } from './openai-completions.ts';
export { openAiEmbeddings } from './openai-embeddings.ts';
export { openAiResponses } from './openai-responses.ts';
export type { SseFraming, StreamReader, WireApi, WireFormat } from './types.ts';

/**
 * Every API module, by name. A new API is a new module and one line here. Chat completions come
 * first: they are the default format of the `chat` operation (see `defaultWireFormat`).
 */
const byApi = new Map<WireApi, WireFormat>(
  [openAiChat, openAiResponses, openAiEmbeddings, openAiCompletions, anthropicMessages].map((format) => [
    format.api,
    format,
  ]),
);

export function wireFormat(api: WireApi): WireFormat {
  const format = byApi.get(api);
  if (!format) throw new Error(`Unknown wire format '${api}'`);
  return format;
}

/** Each operation's usual API (the first module of that operation): looked up on every call context. */
const byOperation = new Map<Operation, WireFormat>();
for (const format of byApi.values())
  if (!byOperation.has(format.operation)) byOperation.set(format.operation, format);

/** The wire format a skin assumes for an operation when it is not told (chat completions for chat). */
export function defaultWireFormat(operation: Operation): WireFormat {
  return byOperation.get(operation) ?? openAiChat;
}
