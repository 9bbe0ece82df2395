import type { SpanContext } from '@opentelemetry/api';
import { ownCopy } from '../core/errors.ts';

/**
 * One upstream call shared by identical concurrent calls (request coalescing). The upstream runs
 * with the flight's signal, which aborts only when every participant has aborted: a follower still
 * waiting keeps the call alive when the caller who started it goes away.
 */
export class Flight<T> {
  readonly #controller = new AbortController();
  readonly #detach: Array<() => void> = [];
  #active = 0;
  #finished = false;
  readonly promise: Promise<T>;
  /** The leader's request span: each follower's span links to it (the one upstream call is its child). */
  readonly leader: SpanContext;
  resolve!: (result: T) => void;
  #reject!: (error: unknown) => void;

  constructor(leader: SpanContext) {
    this.leader = leader;
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.#reject = reject;
    });
    // Followers that gave up must not turn a leader's failure into an unhandled rejection.
    this.promise.catch(() => {});
  }

  /**
   * Fail the flight. Followers get copies of the error as it is now: the leader's own layers go on to
   * add its headers to the original, which must not reach them.
   */
  reject(error: unknown): void {
    this.#reject(ownCopy(error));
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Count a caller in; its signal aborting counts it out. */
  join(signal: AbortSignal): void {
    this.#active++;
    if (signal.aborted) {
      this.#leave(signal.reason);
      return;
    }
    const onAbort = () => this.#leave(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    this.#detach.push(() => signal.removeEventListener('abort', onAbort));
  }

  /** Wait for the leader's result, or stop waiting (rejecting) when this caller's signal aborts. */
  wait(signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.promise.then(
        (result) => {
          signal.removeEventListener('abort', onAbort);
          resolve(result);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(ownCopy(error));
        },
      );
    });
  }

  /** Stop tracking participants (the shared work is over). */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    for (const detach of this.#detach.splice(0)) detach();
  }

  #leave(reason: unknown): void {
    this.#active--;
    if (this.#active <= 0 && !this.#finished) this.#controller.abort(reason);
  }
}
