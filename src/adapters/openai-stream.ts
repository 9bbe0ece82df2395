import type OpenAI from 'openai';
import { OpenAIError } from 'openai';
import type { ChatCompletionChunk } from 'openai/resources/chat/completions';
import { Stream } from 'openai/streaming';
import { UpstreamError } from '../core/errors.ts';
import { toPolicyError } from './openai-errors.ts';
import { toCallerError } from './translate.ts';

function hasFinishReason(chunk: ChatCompletionChunk): boolean {
  return (
    Array.isArray(chunk.choices) && chunk.choices.some((choice) => typeof choice?.finish_reason === 'string')
  );
}

/**
 * The SDK's stream as the policies must see it. The SDK ends a stream quietly when its request is
 * aborted and when the connection closes cleanly without `[DONE]`; to a cache both would look like a
 * complete answer. So: an abort ends the chunks with the abort reason, a stream in which no choice
 * reached a `finish_reason` ends with an `UpstreamError`, and SDK errors become policy errors.
 */
export async function* guardChunks(
  stream: AsyncIterable<ChatCompletionChunk>,
  signal: AbortSignal,
  timeoutMs: number,
): AsyncGenerator<ChatCompletionChunk> {
  let finished = false;
  try {
    for await (const chunk of stream) {
      if (!finished && hasFinishReason(chunk)) finished = true;
      yield chunk;
    }
  } catch (error) {
    throw toPolicyError(error, timeoutMs);
  }
  signal.throwIfAborted();
  if (!finished) throw new UpstreamError('The stream ended before any choice finished', 0);
}

function isAbortOf(error: unknown, signal: AbortSignal): boolean {
  if (!signal.aborted) return false;
  return error === signal.reason || (error instanceof Error && error.name === 'AbortError');
}

/**
 * Chunks that went through the policies, as the SDK's own `Stream<ChatCompletionChunk>` (so
 * `toReadableStream()`, `tee()` and `controller` keep working). Like the SDK's stream it can be
 * iterated once, ends quietly when `signal` (the caller's signal or `controller`) aborts, and throws
 * the SDK's own error types.
 */
export function toSdkStream<T = ChatCompletionChunk>(
  chunks: AsyncIterable<T>,
  controller: AbortController,
  signal: AbortSignal,
  client: OpenAI,
): Stream<T> {
  let consumed = false;
  async function* iterator(): AsyncGenerator<T> {
    if (consumed) {
      throw new OpenAIError('Cannot iterate over a consumed stream, use `.tee()` to split the stream.');
    }
    consumed = true;
    try {
      yield* chunks;
    } catch (error) {
      if (isAbortOf(error, signal)) return;
      throw toCallerError(error);
    }
  }
  return new Stream<T>(iterator, controller, client);
}
