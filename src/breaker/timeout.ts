import type { Clock } from '../core/clock.ts';
import type { Next } from '../core/compose.ts';
import type { CallContext } from '../core/context.ts';
import type { TimeoutKind } from '../core/errors.ts';
import { UpstreamTimeoutError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { closeQuietly, raceSignal, startTimer } from './abort.ts';

/** The deadlines of one upstream attempt, in ms. */
export interface AttemptTimeouts {
  /** Until a JSON reply arrives, or a stream's first chunk. */
  readonly totalMs: number;
  /** Streams: from the request to the first chunk. */
  readonly firstChunkMs: number;
  /** Streams: the longest silence between two chunks. */
  readonly idleMs: number;
}

export interface AttemptHooks {
  /** A deadline fired (the upstream request is being aborted). */
  onTimeout?(kind: TimeoutKind, afterMs: number): void;
}

/**
 * Run one upstream attempt under its deadlines. `next` receives a context whose `signal` aborts when
 * the caller leaves or a deadline fires (its reason is the `UpstreamTimeoutError`), so the upstream
 * request is cancelled, not leaked. A stream is primed: its first chunk is awaited here, before the
 * result is returned, so a stream that fails or stalls before sending anything is still an attempt
 * failure that can be retried; after that, the idle deadline guards each chunk and failures reach the
 * consumer (nothing already sent to a client is ever retried).
 */
export async function runWithTimeouts(
  ctx: CallContext,
  next: Next<AiResult>,
  timeouts: AttemptTimeouts,
  clock: Clock,
  hooks: AttemptHooks = {},
): Promise<AiResult> {
  const controller = new AbortController();
  const signal = AbortSignal.any([ctx.signal, controller.signal]);
  const startedAt = clock.now();
  const arm = (kind: TimeoutKind, ms: number) =>
    startTimer(Math.max(0, ms), () => {
      if (signal.aborted) return;
      try {
        hooks.onTimeout?.(kind, ms);
      } catch {
        // Telemetry never breaks the call.
      }
      controller.abort(new UpstreamTimeoutError(kind, Math.round(ms)));
    });

  const total = arm('total', timeouts.totalMs);
  let result: AiResult;
  try {
    result = await raceSignal(next({ ...ctx, signal }), signal);
  } catch (error) {
    clearTimeout(total);
    throw error;
  }
  if (result.kind === 'json') {
    clearTimeout(total);
    return result;
  }

  const iterator = result.chunks[Symbol.asyncIterator]();
  const firstChunk = arm('first_chunk', timeouts.firstChunkMs - (clock.now() - startedAt));
  let head: IteratorResult<unknown>;
  try {
    head = await raceSignal(iterator.next(), signal);
  } catch (error) {
    closeQuietly(iterator);
    throw error;
  } finally {
    clearTimeout(total);
    clearTimeout(firstChunk);
  }
  return {
    ...result,
    chunks: guarded(iterator, head, signal, controller, () => arm('idle', timeouts.idleMs)),
  };
}

async function* guarded(
  iterator: AsyncIterator<unknown>,
  head: IteratorResult<unknown>,
  signal: AbortSignal,
  controller: AbortController,
  armIdle: () => ReturnType<typeof setTimeout>,
): AsyncGenerator<unknown> {
  let complete = false;
  try {
    let current = head;
    while (!current.done) {
      yield current.value;
      const idle = armIdle();
      try {
        current = await raceSignal(iterator.next(), signal);
      } finally {
        clearTimeout(idle);
      }
    }
    complete = true;
  } finally {
    if (!complete) {
      // The consumer left or the stream failed: stop the upstream request too.
      if (!controller.signal.aborted) controller.abort(cancelledError());
      closeQuietly(iterator);
    }
  }
}

function cancelledError(): Error {
  const error = new Error('The stream was closed before it ended');
  error.name = 'AbortError';
  return error;
}
