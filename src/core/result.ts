/**
 * What a call produced, in a shape every policy understands whatever the skin: a JSON body, or a
 * stream of parsed chunks (OpenAI `chat.completion.chunk` objects for the gateway). A stream is
 * complete when its iterator finishes without throwing; the SSE `[DONE]` sentinel is not a chunk.
 */
export interface JsonResult {
  readonly kind: 'json';
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface StreamResult {
  readonly kind: 'stream';
  readonly status: number;
  readonly chunks: AsyncIterable<unknown>;
  readonly headers?: Readonly<Record<string, string>>;
}

export type AiResult = JsonResult | StreamResult;

export interface TokenUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
}

export function jsonResult(body: unknown, status = 200, headers?: Record<string, string>): JsonResult {
  return headers ? { kind: 'json', status, body, headers } : { kind: 'json', status, body };
}

export function streamResult(
  chunks: AsyncIterable<unknown>,
  status = 200,
  headers?: Record<string, string>,
): StreamResult {
  return headers ? { kind: 'stream', status, chunks, headers } : { kind: 'stream', status, chunks };
}

export function isSuccess(result: AiResult): boolean {
  return result.status >= 200 && result.status < 300;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * Token usage from an OpenAI body or chunk (`usage.prompt_tokens`/`completion_tokens`), or an
 * Anthropic one (`usage.input_tokens`/`output_tokens`). Undefined when the value carries none.
 */
export function usageOf(value: unknown): TokenUsage | undefined {
  const usage = asRecord(asRecord(value)?.usage);
  if (!usage) return undefined;
  const input = count(usage.prompt_tokens) ?? count(usage.input_tokens);
  const output = count(usage.completion_tokens) ?? count(usage.output_tokens);
  if (input === undefined && output === undefined) return undefined;
  return { inputTokens: input ?? 0, outputTokens: output ?? 0 };
}

/** The model the provider says answered (`model` on the body or chunk). */
export function responseModelOf(value: unknown): string | undefined {
  const model = asRecord(value)?.model;
  return typeof model === 'string' ? model : undefined;
}

/**
 * Pass a stream's chunks through while observing them. `onEnd` runs once: with `complete: true` when
 * the source finished, false when it threw or the consumer stopped early. Observers never throw into
 * the stream.
 */
export function observeStream(
  chunks: AsyncIterable<unknown>,
  onChunk: (chunk: unknown, index: number) => void,
  onEnd: (outcome: { complete: boolean; error?: unknown; chunks: number }) => void,
): AsyncIterable<unknown> {
  return {
    async *[Symbol.asyncIterator]() {
      let index = 0;
      let complete = false;
      let error: unknown;
      try {
        for await (const chunk of chunks) {
          safely(() => onChunk(chunk, index));
          index++;
          yield chunk;
        }
        complete = true;
      } catch (err) {
        error = err;
        throw err;
      } finally {
        safely(() =>
          onEnd(error === undefined ? { complete, chunks: index } : { complete, error, chunks: index }),
        );
      }
    },
  };
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // An observer's bug must not break the caller's stream.
  }
}
