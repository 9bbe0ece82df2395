import type { Clock } from '../core/clock.ts';
import { OverloadedError } from '../core/errors.ts';
import type { LogEntry } from './sliding-log.ts';
import { SlidingLog } from './sliding-log.ts';

/** Limits of one model after the multiplier (undefined = unlimited). */
export interface GateLimits {
  readonly requestsPerMinute: number | undefined;
  readonly tokensPerMinute: number | undefined;
  readonly maxConcurrent: number | undefined;
}

/** The right to make one upstream call; give it back with `release()`. */
export interface Permit {
  readonly tokens: LogEntry | undefined;
  /** Milliseconds spent queued (0 when admitted at once). */
  readonly waitedMs: number;
}

interface Waiter {
  readonly cost: number;
  readonly enqueuedAt: number;
  resolve(permit: Permit): void;
  reject(error: unknown): void;
  cleanup(): void;
}

/** Providers' limits are per minute. */
export const WINDOW_MS = 60_000;

/**
 * The outbound gate of one model: a strict FIFO queue in front of exact sliding windows (requests and
 * tokens per minute) and a concurrency cap, plus a pause set by upstream feedback. A waiter leaves
 * the queue admitted, or rejected with `OverloadedError` when its wait would exceed `maxQueueWaitMs`
 * (decided at once when predictable), when the queue is full, or when its caller aborts. One timer per
 * gate wakes the head when the window has room again.
 */
export class ModelGate {
  readonly limits: GateLimits;
  readonly #clock: Clock;
  readonly #requests: SlidingLog | undefined;
  readonly #tokens: SlidingLog | undefined;
  #inFlight = 0;
  #pausedUntil = 0;
  #upstream429s = 0;
  #queue: Waiter[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = 0;

  constructor(limits: GateLimits, clock: Clock, windowMs = WINDOW_MS) {
    this.limits = limits;
    this.#clock = clock;
    this.#requests = limits.requestsPerMinute === undefined ? undefined : new SlidingLog(windowMs);
    this.#tokens = limits.tokensPerMinute === undefined ? undefined : new SlidingLog(windowMs);
  }

  get queued(): number {
    return this.#queue.length;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Requests still allowed in the current window (undefined without a request limit). */
  remainingRequests(): number | undefined {
    if (!this.#requests || this.limits.requestsPerMinute === undefined) return undefined;
    this.#requests.prune(this.#clock.now());
    return Math.max(0, this.limits.requestsPerMinute - this.#requests.sum);
  }

  remainingTokens(): number | undefined {
    if (!this.#tokens || this.limits.tokensPerMinute === undefined) return undefined;
    this.#tokens.prune(this.#clock.now());
    return Math.max(0, this.limits.tokensPerMinute - this.#tokens.sum);
  }

  /** Token cost as charged: a request bigger than the whole window's budget waits for an empty window. */
  costOf(tokens: number): number {
    return this.limits.tokensPerMinute === undefined ? 0 : Math.min(tokens, this.limits.tokensPerMinute);
  }

  #take(cost: number, now: number, waitedMs: number): Permit | undefined {
    if (now < this.#pausedUntil) return undefined;
    const { requestsPerMinute, tokensPerMinute, maxConcurrent } = this.limits;
    if (maxConcurrent !== undefined && this.#inFlight >= maxConcurrent) return undefined;
    this.#requests?.prune(now);
    this.#tokens?.prune(now);
    if (this.#requests && requestsPerMinute !== undefined && this.#requests.sum + 1 > requestsPerMinute) {
      return undefined;
    }
    if (this.#tokens && tokensPerMinute !== undefined && this.#tokens.sum + cost > tokensPerMinute) {
      return undefined;
    }
    this.#requests?.add(now, 1);
    this.#inFlight++;
    return { tokens: this.#tokens?.add(now, cost), waitedMs };
  }

  /**
   * When a call of `cost` could start, if `aheadRequests` calls are admitted first. Token windows
   * are only predicted for the head: waiters' token costs are estimates that settlement usually
   * lowers, so they must not cause early rejections. Infinity when only a release can free it.
   */
  #availableAt(now: number, cost: number, aheadRequests: number, withTokens: boolean): number {
    let at = Math.max(now, this.#pausedUntil);
    const { requestsPerMinute, tokensPerMinute, maxConcurrent } = this.limits;
    if (this.#requests && requestsPerMinute !== undefined) {
      this.#requests.prune(now);
      at = Math.max(at, this.#requests.fitsAt(now, 1, requestsPerMinute, aheadRequests));
    }
    if (withTokens && this.#tokens && tokensPerMinute !== undefined) {
      this.#tokens.prune(now);
      at = Math.max(at, this.#tokens.fitsAt(now, cost, tokensPerMinute));
    }
    if (at === now && maxConcurrent !== undefined && this.#inFlight + aheadRequests >= maxConcurrent) {
      return Number.POSITIVE_INFINITY;
    }
    return at;
  }

  /**
   * Wait for a permit in FIFO order. Rejects with `OverloadedError` (Retry-After = predicted wait) when
   * the queue is full or the wait cannot fit in `maxWaitMs`, and with the abort reason on abort.
   */
  acquire(
    cost: number,
    options: { maxWaitMs: number; maxQueueLength: number; signal: AbortSignal },
  ): Promise<Permit> {
    const now = this.#clock.now();
    if (this.#queue.length === 0) {
      const permit = this.#take(cost, now, 0);
      if (permit) return Promise.resolve(permit);
    }
    if (options.signal.aborted) return Promise.reject(options.signal.reason);
    const at = this.#availableAt(now, cost, this.#queue.length, this.#queue.length === 0);
    const waitMs = at - now;
    if (this.#queue.length >= options.maxQueueLength) {
      return Promise.reject(
        overloaded(`queue is full (${options.maxQueueLength} waiting)`, waitMs, options.maxWaitMs),
      );
    }
    if (Number.isFinite(waitMs) && waitMs > options.maxWaitMs) {
      return Promise.reject(
        overloaded(
          `capacity expected in ${Math.ceil(waitMs)} ms, over the ${options.maxWaitMs} ms queue bound`,
          waitMs,
          options.maxWaitMs,
        ),
      );
    }
    return new Promise<Permit>((resolve, reject) => {
      const { signal } = options;
      const onAbort = () => {
        this.#remove(waiter);
        reject(signal.reason);
      };
      const deadline = setTimeout(() => {
        // Capacity that returns at the deadline itself still counts.
        this.#pump();
        if (!this.#queue.includes(waiter)) return;
        this.#remove(waiter);
        const left = this.#availableAt(this.#clock.now(), cost, 0, true) - this.#clock.now();
        reject(overloaded(`no capacity within ${options.maxWaitMs} ms`, left, options.maxWaitMs));
      }, options.maxWaitMs);
      deadline.unref?.();
      const waiter: Waiter = {
        cost,
        enqueuedAt: now,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(deadline);
          signal.removeEventListener('abort', onAbort);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
      this.#schedule(now);
    });
  }

  /**
   * Count a call admitted elsewhere (by the shared Redis gate) without deciding: this process's
   * share then knows its own recent traffic when it must decide alone. Give it back with `release()`.
   */
  record(cost: number): Permit {
    const now = this.#clock.now();
    this.#requests?.add(now, 1);
    this.#inFlight++;
    return { tokens: this.#tokens?.add(now, cost), waitedMs: 0 };
  }

  /**
   * Hold back `requests` calls and `tokens` tokens of this window without a call (they leave it one
   * window from now): capacity that other processes were last seen to use, when this one must decide
   * alone.
   */
  holdBack(requests: number, tokens: number): void {
    const now = this.#clock.now();
    if (requests > 0) this.#requests?.add(now, requests);
    if (tokens > 0) this.#tokens?.add(now, tokens);
  }

  /** End a call: free its concurrency slot and record its actual tokens (undefined: keep the estimate). */
  release(permit: Permit, actualTokens: number | undefined): void {
    this.#inFlight--;
    if (permit.tokens && actualTokens !== undefined && this.#tokens) {
      this.#tokens.set(permit.tokens, this.costOf(actualTokens), this.#clock.now());
    }
    this.#pump();
  }

  /** Stop admitting until `until` (upstream said the model is out of capacity). */
  pause(until: number): void {
    if (until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    this.#schedule(this.#clock.now());
  }

  get pausedUntil(): number {
    return this.#pausedUntil;
  }

  /** Whether any limit is set (a gate without one only holds upstream pauses). */
  get limited(): boolean {
    const { requestsPerMinute, tokensPerMinute, maxConcurrent } = this.limits;
    return requestsPerMinute !== undefined || tokensPerMinute !== undefined || maxConcurrent !== undefined;
  }

  /** Provider 429s in a row, since the provider last admitted a call of this model. */
  get upstream429s(): number {
    return this.#upstream429s;
  }

  /** Note what the provider said to a call: 429 (out of capacity), or an admitted answer. */
  noteUpstream(rateLimited: boolean): void {
    this.#upstream429s = rateLimited ? this.#upstream429s + 1 : 0;
  }

  #remove(waiter: Waiter): void {
    waiter.cleanup();
    const index = this.#queue.indexOf(waiter);
    if (index >= 0) this.#queue.splice(index, 1);
    if (index === 0) this.#pump();
  }

  #pump(): void {
    const now = this.#clock.now();
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      const permit = this.#take(head.cost, now, now - head.enqueuedAt);
      if (!permit) break;
      this.#queue.shift();
      head.cleanup();
      head.resolve(permit);
    }
    this.#schedule(now);
  }

  /** Arm the single wake-up timer for when the head could start (none when only a release can help). */
  #schedule(now: number): void {
    const head = this.#queue[0];
    const at = head ? this.#availableAt(now, head.cost, 0, true) : Number.POSITIVE_INFINITY;
    if (this.#timer && this.#timerAt === at) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!Number.isFinite(at)) return;
    this.#timerAt = at;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#pump();
      },
      Math.max(0, at - now),
    );
    this.#timer.unref?.();
  }
}

/** The 503 of a model's queue, with Retry-After = the predicted wait (or the queue bound when unknown). */
export function overloaded(reason: string, waitMs: number, maxWaitMs: number): OverloadedError {
  const seconds = Number.isFinite(waitMs) && waitMs > 0 ? waitMs / 1000 : maxWaitMs / 1000;
  return new OverloadedError(`Upstream capacity for this model is exhausted: ${reason}`, {
    retryAfter: Math.max(1, Math.ceil(seconds)),
  });
}
