import {
  isAlchemistError,
  isCircuitOpenError,
  isOverloadedError,
  isRateLimitedError,
  isUpstreamError,
  isUpstreamTimeoutError,
} from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import type { CacheEntry } from './types.ts';

/** Failures an answer that is stale but present beats (RFC 5861 stale-if-error): upstream, not caller. */
export function upstreamFailed(error: unknown): boolean {
  if (isUpstreamError(error)) {
    return error.upstreamStatus === 0 || error.upstreamStatus >= 500 || error.upstreamStatus === 429;
  }
  return (
    isCircuitOpenError(error) ||
    isUpstreamTimeoutError(error) ||
    isOverloadedError(error) ||
    (isRateLimitedError(error) && error.scope === 'model')
  );
}

export function statusOf(error: unknown): number | undefined {
  return isAlchemistError(error) ? error.status : undefined;
}

/** The upstream said not to store this answer (RFC 9111 §5.2.2.5). */
export function forbidsStore(result: AiResult): boolean {
  const header = result.headers?.['cache-control'];
  return header !== undefined && /(^|,)\s*(no-store|private)\s*(,|$)/i.test(header);
}

/** Anthropic streams end with `message_stop`; one that started with `message_start` must have it. */
export function isCompleteStream(chunks: readonly unknown[]): boolean {
  const typeOf = (chunk: unknown) => (chunk as { type?: unknown } | null)?.type;
  if (chunks.length === 0) return false;
  if (typeOf(chunks[0]) === 'message_start') return typeOf(chunks[chunks.length - 1]) === 'message_stop';
  return true;
}

function replayChunks(chunks: readonly unknown[]): AsyncIterable<unknown> {
  return {
    async *[Symbol.asyncIterator]() {
      yield* chunks;
    },
  };
}

export function resultOf(entry: CacheEntry, ageMs: number): AiResult {
  // Age (RFC 9111 §5.1): how long ago the answer was produced, in seconds.
  const headers = { age: String(Math.max(0, Math.floor(ageMs / 1000))) };
  if (entry.kind === 'stream') {
    return { kind: 'stream', status: entry.status, chunks: replayChunks(entry.chunks ?? []), headers };
  }
  return { kind: 'json', status: entry.status, body: entry.body, headers };
}
