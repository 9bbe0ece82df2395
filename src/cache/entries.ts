import {
  isAlchemistError,
  isCircuitOpenError,
  isOverloadedError,
  isRateLimitedError,
  isUpstreamError,
  isUpstreamTimeoutError,
} from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { statusFault } from '../wire/http.ts';
import type { CacheEntry } from './types.ts';

/** Failures an answer that is stale but present beats (RFC 5861 stale-if-error): upstream, not caller. */
export function upstreamFailed(error: unknown): boolean {
  if (isUpstreamError(error))
    return error.upstreamStatus === 0 || statusFault(error.upstreamStatus) !== undefined;
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
