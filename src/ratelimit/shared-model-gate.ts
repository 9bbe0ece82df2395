import { diag } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import type { RedisConnection } from '../redis/connection.ts';
import type { LimiterMode, RateLimiterState } from './limiter.ts';
import type { GateLimits, Permit } from './model-gate.ts';
import { ModelGate, overloaded } from './model-gate.ts';
import type { AdmitReply, CarriedCall } from './model-scripts.ts';
import { RedisModelWindows } from './model-scripts.ts';

/** How often the head of a queue asks again when only a release (maybe on another instance) frees a slot. */
const CONCURRENCY_POLL_MS = 25;
/** Most calls remembered for Redis while it is out of reach (admitted alone, or not yet released). */
const MAX_REMEMBERED = 1000;
/** Most remembered calls sent with one admission. */
const CARRY_PER_CALL = 200;

/** The right to make one upstream call, from whichever side admitted it; give it back with `release()`. */
export interface SharedPermit {
  /** Milliseconds spent queued (0 when admitted at once). */
  readonly waitedMs: number;
  readonly mode: LimiterMode;
  /** The local gate's permit: the call itself (local modes), or this process's record of it (redis). */
  readonly local: Permit;
  readonly id?: string;
  /** Local-fallback admission: its record for Redis, and whether Redis may have admitted it too. */
  readonly remembered?: Remembered;
}

/** A call admitted locally while Redis was unavailable, until Redis has counted it. */
interface Remembered {
  readonly id: string;
  readonly at: number;
  cost: number;
  leased: boolean;
  /** Redis counted it (carried, or a timed-out attempt of it): its release goes to Redis too. */
  inRedis: boolean;
}

interface Waiter {
  readonly id: string;
  readonly cost: number;
  readonly enqueuedAt: number;
  readonly deadlineAt: number;
  readonly options: AcquireOptions;
  attempts: number;
  done: boolean;
  /** Its wait ran out while Redis was deciding on it: admitted still counts, denied is the 503. */
  expired: boolean;
  resolve(permit: SharedPermit): void;
  reject(error: unknown): void;
  cleanup(): void;
}

export interface AcquireOptions {
  readonly maxWaitMs: number;
  readonly maxQueueLength: number;
  readonly signal: AbortSignal;
}

/**
 * Where a policy's model limits are decided now, shared by its gates: logged once per change, and
 * reported in `/readyz` and on spans. Follows the connection's availability and each call's outcome.
 */
export class ModeTracker {
  #mode: LimiterMode;

  constructor(redis: RedisConnection | undefined) {
    this.#mode = redis ? (redis.available ? 'redis' : 'local-fallback') : 'local';
    redis?.onAvailabilityChange((available) => this.set(available ? 'redis' : 'local-fallback'));
  }

  get mode(): LimiterMode {
    return this.#mode;
  }

  state(): RateLimiterState {
    return { mode: this.#mode, degraded: this.#mode === 'local-fallback' };
  }

  set(mode: LimiterMode): void {
    if (mode === this.#mode || this.#mode === 'local') return;
    this.#mode = mode;
    diag.warn(
      mode === 'redis'
        ? 'alchemist-perf: model limits are exact across instances again (Redis available)'
        : 'alchemist-perf: Redis unavailable, model limits fall back to this instance’s share (limit / instances)',
    );
  }
}

export interface SharedModelGateOptions {
  /** The limits for all instances together (Redis enforces them). */
  readonly limits: GateLimits;
  /** This instance's share (limit / instances): enforced alone without Redis, or while it is down. */
  readonly share: GateLimits;
  readonly clock: Clock;
  readonly windowMs: number;
  readonly redis?: RedisConnection | undefined;
  /** Key prefix of this model's Redis keys (with its hash tag). */
  readonly keyBase: string;
  readonly leaseTtlMs: number;
  readonly tracker: ModeTracker;
  /** Processes sharing the limits (the share's divisor). */
  readonly instances: number;
  /** Unique per process: call ids are `<idPrefix>:<n>`. */
  readonly idPrefix: string;
}

/**
 * One model's outbound gate across gateway instances. With Redis, each call is admitted by one atomic
 * script (pause, concurrency leases, request and token windows for all instances together) while the
 * FIFO wait stays in this process: only the head of the queue asks Redis, again when the window
 * frees room (`retryMs`) or a release may have. This process also records every call it makes in its
 * local gate, so while Redis is unavailable it decides alone on its share (limit / instances) knowing
 * its own recent traffic, and at first no more than its part of what Redis last left in the window
 * (so the instances together stay under the limit across a failover); the calls it admits then are
 * remembered and added to Redis's windows with
 * the next admission once Redis answers again (each call id counts once, so a late reply to a
 * timed-out attempt does not count the call twice). Without Redis, or without limits (only provider
 * pauses, which every instance hears itself), it is the local gate alone.
 */
export class SharedModelGate {
  readonly limits: GateLimits;
  readonly #local: ModelGate;
  readonly #redis: RedisConnection | undefined;
  readonly #windows: RedisModelWindows | undefined;
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #tracker: ModeTracker;
  readonly #idPrefix: string;
  #counter = 0;
  #queue: Waiter[] = [];
  #pumping = false;
  /** The waiter whose admission Redis is deciding now. */
  #asking: Waiter | undefined;
  #released = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pausedUntil = 0;
  #last: AdmitReply | undefined;
  #lastAt = 0;
  /** This outage's fallback already took what Redis last said into account. */
  #heldBack = false;
  readonly #instances: number;
  readonly #remembered = new Map<string, Remembered>();
  /** Releases Redis did not get (it was down): sent when it is back, so leases do not wait for their TTL. */
  readonly #unsettled = new Map<string, { actual: number | undefined; withdraw: boolean }>();

  constructor(options: SharedModelGateOptions) {
    const { requestsPerMinute, tokensPerMinute, maxConcurrent } = options.limits;
    // A model without limits only holds provider pauses, which each instance hears from the provider
    // itself: it costs no Redis round trip.
    const shared =
      requestsPerMinute !== undefined || tokensPerMinute !== undefined || maxConcurrent !== undefined;
    this.#redis = shared ? options.redis : undefined;
    this.limits = this.#redis ? options.limits : options.share;
    this.#clock = options.clock;
    this.#windowMs = options.windowMs;
    this.#tracker = options.tracker;
    this.#idPrefix = options.idPrefix;
    this.#instances = options.instances;
    this.#local = new ModelGate(options.share, options.clock, options.windowMs);
    if (this.#redis) {
      this.#windows = new RedisModelWindows(this.#redis, options.keyBase, {
        windowMs: options.windowMs,
        requestsPerMinute,
        tokensPerMinute,
        maxConcurrent,
        leaseTtlMs: options.leaseTtlMs,
      });
      this.#redis.onAvailabilityChange((available) => {
        if (available) this.#flushUnsettled();
      });
    }
  }

  get mode(): LimiterMode {
    return this.#tracker.mode;
  }

  get queued(): number {
    return this.#queue.length + this.#local.queued;
  }

  /** Calls this process has in flight for the model. */
  get inFlight(): number {
    return this.#local.inFlight;
  }

  #shared(): boolean {
    return this.#windows !== undefined && this.#tracker.mode === 'redis' && this.#last !== undefined;
  }

  /** Requests still allowed in the window (all instances' in Redis mode, as of the last decision). */
  remainingRequests(): number | undefined {
    return this.#shared() ? this.#last?.remainingRequests : this.#local.remainingRequests();
  }

  remainingTokens(): number | undefined {
    return this.#shared() ? this.#last?.remainingTokens : this.#local.remainingTokens();
  }

  costOf(tokens: number): number {
    return this.limits.tokensPerMinute === undefined ? 0 : Math.min(tokens, this.limits.tokensPerMinute);
  }

  get limited(): boolean {
    const { requestsPerMinute, tokensPerMinute, maxConcurrent } = this.limits;
    return requestsPerMinute !== undefined || tokensPerMinute !== undefined || maxConcurrent !== undefined;
  }

  get pausedUntil(): number {
    return Math.max(this.#pausedUntil, this.#local.pausedUntil);
  }

  get upstream429s(): number {
    return this.#local.upstream429s;
  }

  noteUpstream(rateLimited: boolean): void {
    this.#local.noteUpstream(rateLimited);
  }

  /** Stop admitting until `until`, here and (with Redis) on every instance. */
  pause(until: number): void {
    this.#local.pause(until);
    const ms = until - this.#clock.now();
    if (!this.#windows || !this.#redis?.available || ms <= 0) return;
    this.#windows.pause(ms).catch(() => {
      // Redis went away: the pause holds here, and the provider tells the other instances itself.
    });
  }

  /**
   * Wait for a permit in FIFO order. Rejects with `OverloadedError` when the queue is full or the
   * wait cannot fit in `maxWaitMs` (at once when Redis says how long it will be), and with the abort
   * reason on abort.
   */
  acquire(cost: number, options: AcquireOptions): Promise<SharedPermit> {
    if (!this.#windows) {
      return this.#local
        .acquire(cost, options)
        .then((local) => ({ waitedMs: local.waitedMs, mode: 'local', local }));
    }
    if (options.signal.aborted) return Promise.reject(options.signal.reason);
    if (this.#queue.length > 0 && this.#queue.length >= options.maxQueueLength) {
      return Promise.reject(
        overloaded(`queue is full (${options.maxQueueLength} waiting)`, Number.NaN, options.maxWaitMs),
      );
    }
    const now = this.#clock.now();
    return new Promise<SharedPermit>((resolve, reject) => {
      const { signal } = options;
      const leave = () => {
        waiter.done = true;
        waiter.cleanup();
        const index = this.#queue.indexOf(waiter);
        if (index >= 0) this.#queue.splice(index, 1);
        // The head left: the next one asks now rather than at the head's retry time.
        if (index === 0 && !this.#pumping) void this.#pump();
      };
      const onAbort = () => {
        leave();
        reject(signal.reason);
      };
      const deadline = setTimeout(() => {
        if (waiter.done) return;
        if (this.#asking === waiter) {
          waiter.expired = true;
          return;
        }
        leave();
        reject(overloaded(`no capacity within ${options.maxWaitMs} ms`, Number.NaN, options.maxWaitMs));
      }, options.maxWaitMs);
      deadline.unref?.();
      const waiter: Waiter = {
        id: `${this.#idPrefix}:${++this.#counter}`,
        cost,
        enqueuedAt: now,
        deadlineAt: now + options.maxWaitMs,
        options,
        attempts: 0,
        done: false,
        expired: false,
        resolve,
        reject,
        cleanup: () => {
          clearTimeout(deadline);
          signal.removeEventListener('abort', onAbort);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
      // A head waiting on its retry timer keeps its place; only an idle queue starts asking now.
      if (!this.#pumping && !this.#timer) void this.#pump();
    });
  }

  /** End a call: free its slot (here and in Redis) and record its actual tokens (undefined: keep the estimate). */
  release(permit: SharedPermit, actualTokens: number | undefined): void {
    this.#local.release(permit.local, actualTokens === undefined ? undefined : actualTokens);
    if (permit.mode === 'local') return;
    const actual = actualTokens === undefined ? undefined : this.costOf(actualTokens);
    const remembered = permit.remembered;
    if (remembered) {
      remembered.leased = false;
      if (actual !== undefined) remembered.cost = actual;
      if (!remembered.inRedis) return;
    }
    if (permit.id) this.#settle(permit.id, actual);
    // A slot or tokens came back: the head may pass now rather than at its next poll.
    this.#released = true;
    if (!this.#pumping && this.#queue.length > 0) void this.#pump();
  }

  #settle(id: string, actual: number | undefined, withdraw = false): void {
    const windows = this.#windows;
    if (!windows) return;
    const remember = () => {
      if (this.#unsettled.size >= MAX_REMEMBERED) return; // the lease then expires with its TTL
      this.#unsettled.set(id, { actual, withdraw });
    };
    if (this.#redis?.available) windows.settle(id, actual, withdraw).catch(remember);
    else remember();
  }

  #flushUnsettled(): void {
    const pending = [...this.#unsettled];
    this.#unsettled.clear();
    for (const [id, { actual, withdraw }] of pending) this.#settle(id, actual, withdraw);
  }

  /** Remembered calls for Redis to count, oldest first; those out of the window and released are dropped. */
  #carry(now: number): Remembered[] {
    const carry: Remembered[] = [];
    for (const [id, call] of this.#remembered) {
      if (now - call.at >= this.#windowMs && !call.leased) {
        this.#remembered.delete(id);
        continue;
      }
      if (carry.length < CARRY_PER_CALL) carry.push(call);
    }
    return carry;
  }

  #remember(call: Remembered): void {
    if (this.#remembered.size >= MAX_REMEMBERED) {
      const oldest = this.#remembered.keys().next().value;
      if (oldest !== undefined) this.#remembered.delete(oldest);
    }
    this.#remembered.set(call.id, call);
  }

  /** Serve the queue from its head: ask Redis, and wait for when it says the window has room. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    try {
      while (this.#queue.length > 0) {
        this.#released = false;
        const head = this.#queue[0]!;
        if (!this.#redis?.available) {
          this.#fallBack(head, false);
          continue;
        }
        const now = this.#clock.now();
        const carry = this.#carry(now);
        // Marked before the reply: a release meanwhile must reach Redis (a settle of an absent id is harmless).
        for (const call of carry) call.inRedis = true;
        let reply: AdmitReply;
        this.#asking = head;
        try {
          reply = await this.#windows!.admit(
            head.id,
            head.cost,
            carry.map(
              (call): CarriedCall => ({
                id: call.id,
                ageMs: now - call.at,
                cost: call.cost,
                leased: call.leased,
              }),
            ),
          );
        } catch {
          // Redis may still have admitted it (a reply after the bound): the call id makes that and
          // the local admission one call when the local one is carried to Redis later.
          if (!head.done) this.#fallBack(head, true);
          continue;
        } finally {
          this.#asking = undefined;
        }
        for (const call of carry) this.#remembered.delete(call.id);
        if (this.#unsettled.size > 0) this.#flushUnsettled();
        this.#tracker.set('redis');
        this.#last = reply;
        this.#lastAt = this.#clock.now();
        this.#heldBack = false;
        if (head.done) {
          // It left (abort, deadline) while Redis was deciding: give the admission back.
          if (reply.admitted) this.#settle(head.id, undefined, true);
          continue;
        }
        const firstAttempt = head.attempts === 0;
        head.attempts++;
        const at = this.#clock.now();
        if (reply.admitted) {
          this.#take(head);
          const local = this.#local.record(this.#local.costOf(head.cost));
          head.resolve({
            waitedMs: firstAttempt ? 0 : at - head.enqueuedAt,
            mode: 'redis',
            local,
            id: head.id,
          });
          continue;
        }
        if (reply.denied === 'paused' && reply.retryMs !== undefined) {
          this.#pausedUntil = Math.max(this.#pausedUntil, at + reply.retryMs);
          this.#local.pause(at + reply.retryMs);
        }
        const { retryMs } = reply;
        const wait = retryMs ?? CONCURRENCY_POLL_MS;
        const tooLong = retryMs !== undefined && at + retryMs > head.deadlineAt;
        if (tooLong || head.expired || head.options.maxQueueLength === 0) {
          this.#take(head);
          const why = tooLong
            ? `capacity expected in ${Math.ceil(retryMs)} ms, over the ${head.options.maxWaitMs} ms queue bound`
            : head.expired
              ? `no capacity within ${head.options.maxWaitMs} ms`
              : 'no queue (maxQueueLength 0)';
          head.reject(overloaded(why, retryMs ?? Number.NaN, head.options.maxWaitMs));
          continue;
        }
        if (this.#released) continue; // a release came while Redis was deciding: ask again now
        this.#timer = setTimeout(
          () => {
            this.#timer = undefined;
            void this.#pump();
          },
          Math.max(1, wait),
        );
        this.#timer.unref?.();
        break;
      }
    } finally {
      this.#pumping = false;
    }
  }

  #take(waiter: Waiter): void {
    waiter.done = true;
    waiter.cleanup();
    const index = this.#queue.indexOf(waiter);
    if (index >= 0) this.#queue.splice(index, 1);
  }

  /**
   * On the first local decision of an outage: this process may use no more than its part of what
   * Redis last said was left in the window (when that was within the window), so the instances
   * together stay under the limit across a failover, at the cost of up to one window at a lower rate.
   * The rest of its share is held back for one window.
   */
  #holdBack(now: number): void {
    this.#heldBack = true;
    const last = this.#last;
    if (!last || now - this.#lastAt >= this.#windowMs) return;
    const excess = (ownLeft: number | undefined, globalLeft: number | undefined) =>
      ownLeft === undefined || globalLeft === undefined
        ? 0
        : Math.max(0, ownLeft - Math.floor(globalLeft / this.#instances));
    this.#local.holdBack(
      excess(this.#local.remainingRequests(), last.remainingRequests),
      excess(this.#local.remainingTokens(), last.remainingTokens),
    );
  }

  /** Hand a waiter to the local gate (this instance's share), keeping its deadline; remember what it admits. */
  #fallBack(waiter: Waiter, ambiguous: boolean): void {
    this.#take(waiter);
    this.#tracker.set('local-fallback');
    const now = this.#clock.now();
    if (!this.#heldBack) this.#holdBack(now);
    this.#local
      .acquire(this.#local.costOf(waiter.cost), {
        maxWaitMs: Math.max(0, waiter.deadlineAt - now),
        maxQueueLength: waiter.options.maxQueueLength,
        signal: waiter.options.signal,
      })
      .then((local) => {
        const at = this.#clock.now();
        const remembered: Remembered = {
          id: waiter.id,
          at,
          cost: waiter.cost,
          leased: true,
          inRedis: ambiguous,
        };
        this.#remember(remembered);
        waiter.resolve({
          waitedMs: waiter.attempts === 0 && local.waitedMs === 0 ? 0 : at - waiter.enqueuedAt,
          mode: 'local-fallback',
          local,
          id: waiter.id,
          remembered,
        });
      }, waiter.reject);
  }
}
