import { asRecord, count, stringField } from './fields.ts';
import {
  ChoicesStreamReader,
  collectFinishReasons,
  OPENAI_IGNORED_FIELDS,
  openAiErrorBody,
  usageIn,
} from './openai-chat.ts';
import type { WireFormat } from './types.ts';

function choices(value: unknown): unknown[] {
  const list = asRecord(value)?.choices;
  return Array.isArray(list) ? list : [];
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
  finishReasons(body) {
    const reasons: string[] = [];
    collectFinishReasons(body, reasons);
    return reasons;
  },
  outputText: choiceText,
  // The API's own default is 16 tokens when `max_tokens` is absent.
  maxOutputTokens: (request) => count(request.max_tokens) ?? 16,
  // Like chat: the SSE `[DONE]` sentinel, checked where SSE is parsed, is what ends a stream.
  streamComplete: (chunks) => chunks.length > 0,
  streamReader: () => new ChoicesStreamReader(choiceText),
  errorBody: openAiErrorBody,
};
