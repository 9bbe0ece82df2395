import type { Operation } from '../core/context.ts';
import { openAiChat } from './openai-chat.ts';
import type { WireApi, WireFormat } from './types.ts';

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
export type { StreamReader, WireApi, WireFormat } from './types.ts';

/** Every API module, by name. A new API is a new module and one line here. */
const byApi = new Map<WireApi, WireFormat>([openAiChat].map((format) => [format.api, format]));

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
