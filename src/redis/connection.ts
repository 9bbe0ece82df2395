import { createHash } from 'node:crypto';
import type { MeterProvider } from '@opentelemetry/api';
import { diag } from '@opentelemetry/api';
import { createClient, ErrorReply } from 'redis';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import { getInstruments } from '../telemetry/instruments.ts';
import { ATTR_STORE } from '../telemetry/semconv.ts';
import { StoreUnavailableError } from './errors.ts';
import { redactRedisUrl } from './url.ts';

/** The node-redis client a connection hands to `run()`. */
export type RedisClient = ReturnType<typeof createClient>;

/** Options of {@link createRedisConnection}. */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://...`. Required. */
  url: string;
  /** Longest a `run()` (one or more commands) may take before it fails as unavailable. @default 50 */
  commandTimeoutMs?: number;
  /** Longest a TCP connect (first or reconnect) may take. @default 500 */
  connectTimeoutMs?: number;
  /** Cap of the exponential reconnect backoff (50 ms, 100 ms, ... up to this). @default 1000 */
  maxReconnectDelayMs?: number;
  /** Consecutive failed or timed-out runs that open the breaker (fail fast). @default 3 */
  failureThreshold?: number;
  /** How long the breaker stays open before a trial (a PING, or the next run) may close it. @default 500 */
  breakerCooldownMs?: number;
  /** Where `alchemist.store.available` is recorded. @default the global MeterProvider */
  meterProvider?: MeterProvider;
  /** Time source for the breaker cooldown. @default Date.now */
  clock?: Clock;
}

/** One guarded Redis connection, shared by the cache and the rate limiter. */
export interface RedisConnection {
  /** False while Redis is down (not connected) or its breaker is open. */
  readonly available: boolean;
  /**
   * Run commands on the client. Rejects fast with a `StoreUnavailableError` (see
   * `isStoreUnavailableError`) when Redis is down, and never waits longer than `commandTimeoutMs`.
   * Errors Redis itself replies with (`WRONGTYPE`, script errors) pass through unchanged.
   */
  run<T>(fn: (client: RedisClient) => Promise<T>): Promise<T>;
  /** EVALSHA, falling back to EVAL (which also caches the script) when Redis answers NOSCRIPT. */
  evalScript(script: string, keys: string[], args: (string | number)[]): Promise<unknown>;
  /** Called with the new state whenever `available` changes. Returns an unsubscribe function. */
  onAvailabilityChange(listener: (available: boolean) => void): () => void;
  /** Disconnect now (pending commands fail) and stop reconnecting. Safe to call twice. */
  close(): Promise<void>;
}

type BreakerState = 'closed' | 'open' | 'half_open';

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  const resolved = value ?? fallback;
  if (!Number.isFinite(resolved) || resolved < min) {
    throw new TypeError(`RedisConnectionOptions.${name} must be a number >= ${min}, got ${String(value)}`);
  }
  return resolved;
}

function validUrl(url: unknown): string {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new TypeError('RedisConnectionOptions.url is required (redis://host:port)');
  }
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new TypeError(`RedisConnectionOptions.url is not a URL: ${redactRedisUrl(url)}`);
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new TypeError(
      `RedisConnectionOptions.url must start with redis:// or rediss://, got ${JSON.stringify(protocol)}`,
    );
  }
  return url;
}

/**
 * Open one guarded Redis connection for the process. It never queues commands while disconnected
 * (node-redis `disableOfflineQueue`), bounds every `run()` to `commandTimeoutMs`, reconnects with a
 * capped backoff, and opens a small breaker after `failureThreshold` consecutive failures so a hung
 * Redis costs microseconds, not timeouts, per request. `alchemist.store.available` (`alchemist.store`
 * = `redis`) is recorded at start and on every change. The URL's password is never logged.
 *
 * @param options.url the Redis URL
 * @param [options.commandTimeoutMs=50] bound on each `run()`
 * @param [options.connectTimeoutMs=500] TCP connect timeout
 * @param [options.failureThreshold=3] consecutive failures that open the breaker
 * @example
 * const redis = createRedisConnection({ url: process.env.REDIS_URL! });
 * app.use('/v1/*', aiCache({ redis }));
 * process.on('SIGTERM', () => redis.close());
 */
export function createRedisConnection(options: RedisConnectionOptions): RedisConnection {
  const url = validUrl(options.url);
  const commandTimeoutMs = positive('commandTimeoutMs', options.commandTimeoutMs, 50);
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs, 500);
  const maxReconnectDelayMs = positive('maxReconnectDelayMs', options.maxReconnectDelayMs, 1000);
  const failureThreshold = positive('failureThreshold', options.failureThreshold, 3);
  const breakerCooldownMs = positive('breakerCooldownMs', options.breakerCooldownMs, 500);
  const clock = options.clock ?? systemClock;
  const { meterProvider } = options;
  const safeUrl = redactRedisUrl(url);

  const client: RedisClient = createClient({
    url,
    // Why: with the offline queue, commands issued while disconnected wait for the reconnect (~5 s
    // or forever, measured in ../shared/notes/libraries.md §1.4); we want them to fail at once.
    disableOfflineQueue: true,
    // node-redis' own timeout only clears stuck commands from its queue; our deadline (below) is
    // what callers see, so node-redis must not beat it with a false timeout.
    commandOptions: { timeout: Math.max(1000, commandTimeoutMs * 20) },
    socket: {
      connectTimeout: connectTimeoutMs,
      reconnectStrategy: (retries: number) =>
        Math.min(50 * 2 ** Math.min(retries, 10), maxReconnectDelayMs) + Math.floor(Math.random() * 50),
    },
  });

  let ready = false;
  let closed = false;
  let breaker: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let available = false;
  let probeTimer: ReturnType<typeof setTimeout> | undefined;
  const listeners = new Set<(available: boolean) => void>();

  const record = () => {
    try {
      getInstruments(meterProvider).storeAvailable.record(available ? 1 : 0, { [ATTR_STORE]: 'redis' });
    } catch {
      // Telemetry never breaks the call.
    }
  };
  const update = () => {
    const next = !closed && ready && breaker === 'closed';
    if (next === available) return;
    available = next;
    record();
    diag.warn(`alchemist-perf: Redis ${safeUrl} is ${next ? 'available again' : 'unavailable'}`);
    for (const listener of listeners) {
      try {
        listener(next);
      } catch {
        // A listener's bug must not break the connection.
      }
    }
  };
  // Re-record now and then, so a MeterProvider registered after start still sees the state.
  const heartbeat = setInterval(record, 10_000);
  heartbeat.unref();
  record();

  const closeBreaker = () => {
    failures = 0;
    if (breaker !== 'closed') {
      breaker = 'closed';
      if (probeTimer) clearTimeout(probeTimer);
      probeTimer = undefined;
    }
    update();
  };
  const openBreaker = () => {
    breaker = 'open';
    openedAt = clock.now();
    update();
    scheduleProbe();
  };
  const onFailure = () => {
    failures++;
    if (breaker === 'half_open' || (breaker === 'closed' && failures >= failureThreshold)) openBreaker();
  };
  // While open, a background PING closes the breaker when Redis answers again, even without traffic.
  const scheduleProbe = () => {
    if (probeTimer || closed) return;
    probeTimer = setTimeout(async () => {
      probeTimer = undefined;
      if (breaker !== 'open' || closed) return;
      if (ready) {
        try {
          await withDeadline(client.ping());
          closeBreaker();
          return;
        } catch {
          openedAt = clock.now();
        }
      }
      scheduleProbe();
    }, breakerCooldownMs);
    probeTimer.unref();
  };

  client.on('error', (error: unknown) => {
    // Required: an EventEmitter 'error' without a listener crashes the process. The socket errors
    // repeat on every reconnect attempt, so only the state change is logged (in update()).
    if (!client.isReady && ready) {
      ready = false;
      update();
    }
    diag.debug(`alchemist-perf: Redis ${safeUrl} error: ${error instanceof Error ? error.name : 'unknown'}`);
  });
  client.on('ready', () => {
    ready = true;
    closeBreaker();
    update();
  });
  for (const event of ['end', 'reconnecting', 'terminated']) {
    client.on(event, () => {
      ready = false;
      update();
    });
  }
  client.connect().catch(() => {
    // Only when closed during the first connect; later connection errors go to 'error'.
  });

  function withDeadline<T>(promise: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Why setImmediate: after the event loop was blocked (a loaded process), expired timers run
      // before pending I/O. Deferring to the check phase lets a reply already in the socket buffer
      // win, so a busy process does not see a healthy Redis as timed out.
      const timer = setTimeout(
        () => setImmediate(() => reject(new StoreUnavailableError('timeout'))),
        commandTimeoutMs,
      );
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  async function run<T>(fn: (client: RedisClient) => Promise<T>): Promise<T> {
    if (closed) throw new StoreUnavailableError('closed');
    if (!ready || !client.isReady) throw new StoreUnavailableError('offline');
    if (breaker === 'open') {
      if (clock.now() - openedAt < breakerCooldownMs) throw new StoreUnavailableError('breaker_open');
      breaker = 'half_open'; // this call is the trial; others keep failing fast until it settles
    } else if (breaker === 'half_open') {
      throw new StoreUnavailableError('breaker_open');
    }
    try {
      const value = await withDeadline(fn(client));
      closeBreaker();
      return value;
    } catch (error) {
      if (error instanceof ErrorReply) {
        // Redis answered: it is up, the command was wrong.
        closeBreaker();
        throw error;
      }
      onFailure();
      if (error instanceof StoreUnavailableError) throw error;
      throw new StoreUnavailableError('connection', { cause: error });
    }
  }

  const scripts = new Map<string, string>();
  const shaOf = (script: string) => {
    let sha = scripts.get(script);
    if (!sha) {
      sha = createHash('sha1').update(script).digest('hex');
      scripts.set(script, sha);
    }
    return sha;
  };

  return {
    get available() {
      return available;
    },
    run,
    async evalScript(script, keys, args) {
      const options = { keys, arguments: args.map(String) };
      try {
        return await run((c) => c.evalSha(shaOf(script), options));
      } catch (error) {
        if (error instanceof ErrorReply && error.message.startsWith('NOSCRIPT')) {
          return run((c) => c.eval(script, options));
        }
        throw error;
      }
    },
    onAvailabilityChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      if (probeTimer) clearTimeout(probeTimer);
      update();
      try {
        client.destroy();
      } catch {
        // Already closed.
      }
    },
  };
}
