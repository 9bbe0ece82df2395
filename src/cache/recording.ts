import { ownCopy } from '../core/errors.ts';

/** How a recorded stream ended. */
export type RecordingState = 'open' | 'complete' | 'failed' | 'cancelled';

export class StreamCancelledError extends Error {
  constructor() {
    super('The shared upstream stream was cancelled before it completed');
    this.name = 'StreamCancelledError';
  }
}

/**
 * One upstream stream read once and replayed to any number of readers (the caller and the coalesced
 * followers), each from the first chunk, as chunks arrive. Readers pull: the source is read only as
 * fast as the fastest reader asks, never ahead. When every reader has stopped early, the source is
 * closed (which cancels the upstream request). `onSettled` runs once, with the outcome, before the
 * reader that saw the end gets its `done` (so a completed stream is stored by then).
 */
export class StreamRecording {
  readonly chunks: unknown[] = [];
  state: RecordingState = 'open';
  error: unknown;
  readonly #source: AsyncIterator<unknown>;
  readonly #onSettled: (recording: StreamRecording) => void | Promise<void>;
  #pulling: Promise<void> | undefined;
  #readers = 0;

  constructor(
    source: AsyncIterable<unknown>,
    onSettled: (recording: StreamRecording) => void | Promise<void>,
  ) {
    this.#source = source[Symbol.asyncIterator]();
    this.#onSettled = onSettled;
  }

  /**
   * A reader over the whole stream. The reader counts from creation (not first read), so a follower
   * that has the iterable but has not started yet keeps the source alive.
   */
  replay(): AsyncIterable<unknown> {
    this.#readers++;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#readers--;
      if (this.#readers === 0 && this.state === 'open') void this.#cancel();
    };
    const recording = this;
    return {
      async *[Symbol.asyncIterator]() {
        let index = 0;
        try {
          while (true) {
            if (index < recording.chunks.length) {
              yield recording.chunks[index++];
              continue;
            }
            if (recording.state === 'complete') return;
            if (recording.state === 'failed') throw ownCopy(recording.error);
            if (recording.state === 'cancelled') throw new StreamCancelledError();
            await recording.#pull();
          }
        } finally {
          release();
        }
      },
    };
  }

  #pull(): Promise<void> {
    this.#pulling ??= (async () => {
      try {
        const next = await this.#source.next();
        if (next.done) await this.#settle('complete');
        else this.chunks.push(next.value);
      } catch (error) {
        this.error = error;
        await this.#settle('failed');
      } finally {
        this.#pulling = undefined;
      }
    })();
    return this.#pulling;
  }

  async #settle(state: RecordingState): Promise<void> {
    if (this.state !== 'open') return;
    this.state = state;
    try {
      await this.#onSettled(this);
    } catch {
      // Storing is best effort; it never breaks a reader.
    }
  }

  async #cancel(): Promise<void> {
    await this.#settle('cancelled');
    try {
      await this.#source.return?.();
    } catch {
      // The source is gone either way.
    }
  }
}
