import type { ErrorBody } from '../core/errors.ts';
import type { TokenUsage } from '../core/result.ts';
import { asRecord, count, stringField } from './fields.ts';
import { OPENAI_IGNORED_FIELDS, openAiErrorBody, usageIn } from './openai-chat.ts';
import type { StreamReader, WireFormat } from './types.ts';

/**
 * Left out of Responses cache keys: the OpenAI bookkeeping fields, but not `store`. A replayed answer
 * carries the original `resp_…` id, which exists upstream (for the gateway's provider account) only
 * if that call was stored, so a `store: true` request must never get the id of a `store: false` one.
 * `previous_response_id` and `conversation` are kept: they name the state the answer continues.
 */
const RESPONSES_IGNORED_FIELDS: ReadonlySet<string> = new Set(
  [...OPENAI_IGNORED_FIELDS].filter((name) => name !== 'store'),
);

/** Events after which a Responses stream is over (`response.failed` ends it too, as a failure). */
const END_EVENTS = new Set(['response.completed', 'response.incomplete']);

function outputItems(response: unknown): unknown[] {
  const output = asRecord(response)?.output;
  return Array.isArray(output) ? output : [];
}

/** Text of the `output_text` parts of `message` items (what openai-node exposes as `output_text`). */
function outputText(response: unknown): string {
  let text = '';
  for (const item of outputItems(response)) {
    const record = asRecord(item);
    if (record?.type !== 'message' || !Array.isArray(record.content)) continue;
    for (const part of record.content) {
      const content = asRecord(part);
      if (content?.type === 'output_text' && typeof content.text === 'string') text += content.text;
    }
  }
  return text;
}

/**
 * Finish reasons in chat's vocabulary: `tool_calls` when the answer calls a function, else `stop`
 * for a completed response, the `incomplete_details.reason` (e.g. `max_output_tokens`) for an
 * incomplete one, `error` for a failed one.
 */
function finishReasons(response: unknown): string[] {
  const record = asRecord(response);
  const status = record?.status;
  if (status === 'completed') {
    const calls = outputItems(response).some((item) => asRecord(item)?.type === 'function_call');
    return [calls ? 'tool_calls' : 'stop'];
  }
  if (status === 'incomplete') return [stringField(record?.incomplete_details, 'reason') ?? 'length'];
  if (status === 'failed') return ['error'];
  return [];
}

class ResponsesStreamReader implements StreamReader {
  usage: TokenUsage | undefined;
  responseModel: string | undefined;
  responseId: string | undefined;
  finishReasons: string[] = [];
  sawEnd = false;

  read(chunk: unknown): string {
    const event = asRecord(chunk);
    const type = event?.type;
    if (type === 'response.output_text.delta') {
      const delta = typeof event?.delta === 'string' ? event.delta : '';
      return delta;
    }
    // `response.created`, `.in_progress` and the end events carry the whole response object.
    const response = asRecord(event?.response);
    if (!response) return '';
    this.responseModel = stringField(response, 'model') ?? this.responseModel;
    this.responseId = stringField(response, 'id') ?? this.responseId;
    this.usage = usageIn(response) ?? this.usage;
    if (typeof type === 'string' && (END_EVENTS.has(type) || type === 'response.failed')) {
      this.finishReasons = finishReasons(response);
      this.sawEnd = END_EVENTS.has(type);
    }
    return '';
  }
}

/** The Responses stream error event: flat `{type, code, message, param}` (openai-node's type). */
function errorEvent(error: ErrorBody): unknown {
  return { type: 'error', code: error.error.code, message: error.error.message, param: null };
}

/**
 * OpenAI Responses (`POST /v1/responses`): `input` in, `output` items out, usage as
 * `input_tokens`/`output_tokens`. Streams are named events (`response.created` …
 * `response.completed`) with no `[DONE]`; nothing of ours is ever added to them (openai-node's
 * `responses.stream()` throws on an event type it does not know).
 */
export const openAiResponses: WireFormat = {
  api: 'openai.responses',
  operation: 'chat',
  ignoredFields: RESPONSES_IGNORED_FIELDS,
  usage: usageIn,
  responseModel: (body) => stringField(body, 'model'),
  responseId: (body) => stringField(body, 'id'),
  finishReasons,
  outputText,
  maxOutputTokens: (request) => count(request.max_output_tokens),
  // Whole when it ends with its end event (a `response.failed` or a cut stream is not).
  streamComplete: (chunks) => END_EVENTS.has(stringField(chunks.at(-1), 'type') ?? ''),
  streamReader: () => new ResponsesStreamReader(),
  errorBody: openAiErrorBody,
  sse: { eventName: (chunk) => stringField(chunk, 'type'), errorEvent },
};
