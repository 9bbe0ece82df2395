import type { TokenUsage } from '../core/result.ts';
import { asRecord, count, stringField } from './fields.ts';
import { OPENAI_IGNORED_FIELDS, openAiErrorBody, usageIn } from './openai-chat.ts';
import type { StreamReader, WireFormat } from './types.ts';

function choices(value: unknown): unknown[] {
  const list = asRecord(value)?.choices;
  return Array.isArray(list) ? list : [];
}

function finishReasons(value: unknown, into: string[] = []): string[] {
  for (const choice of choices(value)) {
    const reason = asRecord(choice)?.finish_reason;
    if (typeof reason === 'string') into.push(reason);
  }
  return into;
}

/** `choices[].text`: the whole text of a body, or a chunk's fragment. */
function choiceText(value: unknown): string {
  let text = '';
  for (const choice of choices(value)) {
    const part = asRecord(choice)?.text;
    if (typeof part === 'string') text += part;
  }
  return text;
}

class CompletionStreamReader implements StreamReader {
  usage: TokenUsage | undefined;
  responseModel: string | undefined;
  responseId: string | undefined;
  readonly finishReasons: string[] = [];
  // Like chat, the chunks carry no end marker of their own (`data: [DONE]` ends the stream).
  sawEnd = false;

  /** Returns the output text the chunk adds (main's StreamReader contract). */
  read(chunk: unknown): string {
    if (!this.sawEnd) {
      this.sawEnd = true;
      this.responseModel = stringField(chunk, 'model');
      this.responseId = stringField(chunk, 'id');
    }
    this.usage = usageIn(chunk) ?? this.usage;
    finishReasons(chunk, this.finishReasons);
    const text = choiceText(chunk);
    return text;
  }
}

/**
 * OpenAI legacy text completions (`POST /v1/completions`): `prompt` in, `choices[].text` out; each
 * stream chunk is a whole `text_completion` object, ending with `data: [DONE]` (after a `choices: []`
 * usage chunk when `stream_options.include_usage` asked for one).
 */
export const openAiCompletions: WireFormat = {
  api: 'openai.completions',
  operation: 'text_completion',
  ignoredFields: OPENAI_IGNORED_FIELDS,
  usage: usageIn,
  responseModel: (body) => stringField(body, 'model'),
  responseId: (body) => stringField(body, 'id'),
  finishReasons: (body) => finishReasons(body),
  outputText: choiceText,
  // The API's own default is 16 tokens when `max_tokens` is absent.
  maxOutputTokens: (request) => count(request.max_tokens) ?? 16,
  // Like chat: the SSE `[DONE]` sentinel, checked where SSE is parsed, is what ends a stream.
  streamComplete: (chunks) => chunks.length > 0,
  streamReader: () => new CompletionStreamReader(),
  errorBody: openAiErrorBody,
};
