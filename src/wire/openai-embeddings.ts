import { asRecord, firstCount, stringField } from './fields.ts';
import { OPENAI_IGNORED_FIELDS, openAiErrorBody } from './openai-chat.ts';
import type { StreamReader, WireFormat } from './types.ts';

/** Embeddings never stream: a reader that never learns anything, for the interface's sake. */
class NoStreamReader implements StreamReader {
  readonly usage = undefined;
  readonly responseModel = undefined;
  readonly responseId = undefined;
  readonly finishReasons: readonly string[] = [];
  sawEnd = false;
  read(): string {
    this.sawEnd = true;
    return '';
  }
}

/**
 * OpenAI embeddings (`POST /v1/embeddings`). `input`, `dimensions` and `encoding_format` stay in the
 * cache key: openai-node asks for base64 by default while the AI SDK asks for floats, and a base64
 * body must never answer a float request (the AI SDK rejects it). Usage has input tokens only.
 */
export const openAiEmbeddings: WireFormat = {
  api: 'openai.embeddings',
  operation: 'embeddings',
  ignoredFields: OPENAI_IGNORED_FIELDS,
  usage(body) {
    const usage = asRecord(asRecord(body)?.usage);
    const input = usage && firstCount(usage, 'prompt_tokens', 'total_tokens');
    return input === undefined ? undefined : { inputTokens: input, outputTokens: 0 };
  },
  responseModel: (body) => stringField(body, 'model'),
  // An embeddings list has no id of its own.
  responseId: () => undefined,
  finishReasons: () => [],
  outputText: () => '',
  // Nothing to generate: no output tokens to reserve.
  maxOutputTokens: () => 0,
  streamComplete: () => false,
  streamReader: () => new NoStreamReader(),
  errorBody: openAiErrorBody,
};
