import type { Operation } from '../core/context.ts';
import type { ErrorBody } from '../core/errors.ts';
import type { TokenUsage } from '../core/result.ts';

/** The APIs the pack understands, one wire-format module each. */
export type WireApi =
  | 'openai.chat'
  | 'openai.responses'
  | 'openai.embeddings'
  | 'openai.completions'
  | 'anthropic.messages';

/**
 * What one stream said, read chunk by chunk. One reader per stream, fed by the one observer a stream
 * has (see `observeStream`); policies read its fields when the stream ends.
 */
export interface StreamReader {
  /** Feed the next parsed chunk (an SSE event's JSON data). */
  read(chunk: unknown): void;
  /** Token usage the stream reported (the last report wins; Anthropic's is assembled from two events). */
  readonly usage: TokenUsage | undefined;
  /** The model the provider says answered. */
  readonly responseModel: string | undefined;
  /** The provider's response id (`gen_ai.response.id`). */
  readonly responseId: string | undefined;
  readonly finishReasons: readonly string[];
  /**
   * The stream's own end marker arrived (Responses `response.completed`, Messages `message_stop`).
   * Chat completions have none in the chunks (the SSE `[DONE]` sentinel ends them), so it is true
   * there once any chunk arrived.
   */
  readonly sawEnd: boolean;
  /** Output text so far, for counting tokens when the provider reports no usage. */
  readonly outputText: string;
}

/**
 * Everything the policies need to know about one API's wire format. Policies and adapters read it;
 * none of them parses a provider format itself. A new API is a new module implementing this.
 */
export interface WireFormat {
  readonly api: WireApi;
  /** `gen_ai.operation.name` of calls to this API. */
  readonly operation: Operation;
  /**
   * Request fields that never change the answer (caller ids, bookkeeping), left out of cache keys.
   * `model` and `stream` are always left out: the key carries them on their own.
   */
  readonly ignoredFields: ReadonlySet<string>;
  /** Token usage in a JSON answer. */
  usage(body: unknown): TokenUsage | undefined;
  /** The model the provider says answered, in a JSON answer. */
  responseModel(body: unknown): string | undefined;
  /** The provider's response id in a JSON answer. */
  responseId(body: unknown): string | undefined;
  /** Finish (stop) reasons in a JSON answer. */
  finishReasons(body: unknown): string[];
  /** Output text of a JSON answer, for counting tokens when the provider reports no usage. */
  outputText(body: unknown): string;
  /** The most output tokens the request allows, when it says. */
  maxOutputTokens(request: Readonly<Record<string, unknown>>): number | undefined;
  /**
   * Whether a stream's chunks, as recorded, make a whole answer (only those are cached). Optional
   * here; main's version of this interface has it required, and every module here provides it.
   */
  streamComplete?(chunks: readonly unknown[]): boolean;
  /** A reader for one stream of this API's chunks. */
  streamReader(): StreamReader;
  /** An error in this API's own body shape (OpenAI `{error:{...}}`, Anthropic `{type:'error',...}`). */
  errorBody(error: ErrorBody): unknown;
  /**
   * How this API frames a stream as SSE, when it differs from chat completions' data-only events
   * ending `data: [DONE]`. Absent for OpenAI chat and legacy completions.
   */
  readonly sse?: SseFraming;
}

/**
 * SSE framing of APIs whose events are named (`event: <type>`): the Responses API and Anthropic
 * Messages. Both repeat the name as the data's `type`, neither ends with `[DONE]`, and the Anthropic
 * SDK drops an event that has no `event:` line, so every event is written with its name.
 */
export interface SseFraming {
  /** The `event:` name of a chunk (its `type`). */
  eventName(chunk: unknown): string | undefined;
  /** The error event data for a stream that failed midway (written as `event: error`). */
  errorEvent(error: ErrorBody): unknown;
}
