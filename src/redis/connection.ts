import { createHash } from 'node:crypto';
import type { MeterProvider } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import { getInstruments } from '../telemetry/instruments.ts';
import { ATTR_STORE } from '../telemetry/semconv.ts';
import { isErrorReply } from './driver.ts';
import { StoreUnavailableError } from './errors.ts';
import type { RedisFailureKind, RedisLogger } from './failures.ts';
import { classifyFailure, diagLogger, failureReporter, replyFailure, WRITE_REFUSALS } from './failures.ts';
import type { RedisClient } from './topology.ts';
import { openTopology, resolveTopology } from './topology.ts';

export type { RedisClient } from './topology.ts';

/** Options of {@link createRedisConnection}. */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://...`. Exactly one of `url`, `cluster`, `sentinel`. */
  url?: string;
  /**
   * Redis Cluster seed node URLs (`redis://[user:password@]host:port`); the other nodes are
   * discovered, with the first seed's credentials and TLS.
   */
  cluster?: readonly string[];
  /**
   * A Sentinel set: the monitored master's `name` and sentinel URLs (their credentials are used for
   * the data nodes too). The connection follows the master through failovers.
   */
  sentinel?: { readonly name: string; readonly nodes: readonly string[] };
  /** Longest a `run()` (one or more commands) may take before it fails as unavailable. @default 50 */
  commandTimeoutMs?: number;
  /** Longest a TCP connect (first or reconnect) may take. @default 500 */
  connectTimeoutMs?: number;
  /** Cap of the exponential reconnect backoff (50 ms, 100 ms, ... up to this). @default 1000 */
  maxReconnectDelayMs?: number;
  /**
   * Failed or timed-out runs that open the breaker (fail fast), counted until a success comes after a
   * quiet `breakerCooldownMs` (so one failing cluster shard still opens it). @default 3
   */
  failureThreshold?: number;
  /** How long the breaker stays open before a trial (a PING, or the next run) may close it. @default 500 */
  breakerCooldownMs?: number;
  /** Where `alchemist.store.available` is recorded. @default the global MeterProvider */
  meterProvider?: MeterProvider;
  /** Time source for the breaker cooldown. @default Date.now */
  clock?: Clock;
  /**
   * Where failures are logged: one line per failure kind (`auth`, `tls`, `oom`, ...) per
   * `logIntervalMs`, with the server's host and error codes only. @default OpenTelemetry's diag logger
   */
  logger?: RedisLogger;
  /** Shortest time between two log lines of the same failure kind. @default 60000 */
  logIntervalMs?: number;
}

/** One guarded Redis connection, shared by the cache and the rate limiter. */
export interface RedisConnection {
  /**
   * False while Redis is down (not connected), hung (a reply is overdue), refusing writes (OOM,
   * READONLY), or its breaker is open.
   */
  readonly available: boolean;
  /** Why it is unavailable, while it is (the last failure seen); undefined while available. */
  readonly failure?: RedisFailureKind | undefined;
  /**
   * Run commands on the client. Rejects fast with a `StoreUnavailableError` (see
   * `isStoreUnavailableError`) when Redis is down, and never waits longer than `commandTimeoutMs`.
   * Errors Redis itself replies with (`WRONGTYPE`, script errors) pass through unchanged.
   */
  run<T>(fn: (client: RedisClient) => Promise<T>): Promise<T>;
  /**
   * One handle per master (every master of a cluster, the one master otherwise), each with a
   * bounded `run()` like the connection's: for work that must visit every master (SCAN, clear).
   */
  masters?(): Promise<ReadonlyArray<Pick<RedisConnection, 'run'>>>;
  /**
   * EVALSHA, falling back to EVAL (which also caches the script) when Redis answers NOSCRIPT. A
   * script (a limiter decision) waits up to twice `commandTimeoutMs`: given up on too early, Redis
   * may have counted it while the caller's fallback admits it again.
   */
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

/** The key a write probe sets (with a 1 s expiry) to learn that a Redis refusing writes accepts them again. */
const WRITE_PROBE_KEY = 'alchemist:probe';

/**
 * Open one guarded Redis connection for the process. It never queues commands while disconnected
 * (node-redis `disableOfflineQueue`), bounds every `run()` to `commandTimeoutMs`, reconnects with a
 * capped backoff, and opens a small breaker after `failureThreshold` failures in a row. A hung
 * Redis costs one `commandTimeoutMs` at most: once a reply is overdue by a second bound, later runs
 * fail at once (replies on one connection come in order, so they would only queue behind it) until
 * it arrives.
 * A Redis that refuses writes (OOM, READONLY, MISCONF) is unavailable until a write probe succeeds.
 * `alchemist.store.available` (`alchemist.store` = `redis`) is recorded at start and on every
 * change; each failure kind is logged once per `logIntervalMs`, never with the URL's password.
 * The same guards cover a Redis Cluster (`cluster`: seed URLs) and a Sentinel set (`sentinel`).
 *
 * @param [options.url] the Redis URL (or `options.cluster`, or `options.sentinel`: exactly one)
 * @param [options.commandTimeoutMs=50] bound on each `run()`
 * @param [options.connectTimeoutMs=500] TCP connect timeout
 * @param [options.failureThreshold=3] failures that open the breaker
 * @param [options.logger=diag] where failure lines go
 * @example
 * const redis = createRedisConnection({ url: process.env.REDIS_URL! });
 * // or createRedisConnection({ cluster: ['redis://h1:7000', 'redis://h2:7000'] })
 * app.use('/v1/*', aiCache({ redis }));
 * process.on('SIGTERM', () => redis.close());
 */
export function createRedisConnection(options: RedisConnectionOptions): RedisConnection {
  const topology = resolveTopology(options);
  const commandTimeoutMs = positive('commandTimeoutMs', options.commandTimeoutMs, 50);
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs, 500);
  const maxReconnectDelayMs = positive('maxReconnectDelayMs', options.maxReconnectDelayMs, 1000);
  const failureThreshold = positive('failureThreshold', options.failureThreshold, 3);
  const breakerCooldownMs = positive('breakerCooldownMs', options.breakerCooldownMs, 500);
  const logIntervalMs = positive('logIntervalMs', options.logIntervalMs, 60_000, 0);
  const clock = options.clock ?? systemClock;
  const { meterProvider } = options;
  let ready = false;
  let closed = false;
  let breaker: BreakerState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let available = false;
  // Runs past their deadline whose reply has not come back yet: while any is, Redis is hung for us.
  let overdue = 0;
  // Why Redis is not serving (the last failure); cleared when it serves again.
  let failure: RedisFailureKind | undefined;
  let probeTimer: ReturnType<typeof setTimeout> | undefined;
  const listeners = new Set<(available: boolean) => void>();
  const topologyClient = openTopology(
    topology,
    { connectTimeoutMs, maxReconnectDelayMs, nodeCommandTimeoutMs: Math.max(1000, commandTimeoutMs * 20) },
    {
      ready: () => {
        ready = true;
        closeBreaker();
        update();
      },
      down: () => {
        ready = false;
        update();
      },
      error: (error: unknown) => {
        // The errors repeat on every reconnect attempt; the reporter logs each kind once per interval.
        if (!topologyClient.isReady() && ready) {
          ready = false;
          update();
        }
        failed(classifyFailure(error, topologyClient.tls), error);
      },
    },
  );
  const client = topologyClient.commands;
  const { tls } = topologyClient;
  const report = failureReporter({
    logger: options.logger ?? diagLogger,
    server: topologyClient.server,
    intervalMs: logIntervalMs,
    now: () => clock.now(),
  });

  const record = () => {
    try {
      getInstruments(meterProvider).storeAvailable.record(available ? 1 : 0, { [ATTR_STORE]: 'redis' });
    } catch {
      // Telemetry never breaks the call.
    }
  };
  const update = () => {
    const next = !closed && ready && breaker === 'closed' && overdue === 0;
    if (next === available) return;
    available = next;
    record();
    if (next) {
      failure = undefined;
      report.recovered();
    }
    for (const listener of listeners) {
      try {
        listener(next);
      } catch {
        // A listener's bug must not break the connection.
      }
    }
  };
  const failed = (kind: RedisFailureKind, error: unknown) => {
    failure = kind;
    report.failed(kind, error);
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
  let lastLostAt = Number.NEGATIVE_INFINITY;
  // After a lost connection, a success forgets the failures only after a quiet spell: on a cluster
  // with one master down, calls to the other masters succeed in between, and one shard failing is
  // still "degraded". Timeouts stay consecutive: a burst with a few slow replies is not an outage.
  const onSuccess = () => {
    if (breaker !== 'closed' || clock.now() - lastLostAt >= breakerCooldownMs) closeBreaker();
  };
  const onFailure = (lost = false) => {
    failures++;
    if (lost) lastLostAt = clock.now();
    if (breaker === 'half_open' || (breaker === 'closed' && failures >= failureThreshold)) openBreaker();
  };
  // While open, a background probe closes the breaker when Redis serves again, even without traffic:
  // a PING, or a short-lived write when Redis was refusing writes (it answers PING all along).
  const scheduleProbe = () => {
    if (probeTimer || closed) return;
    probeTimer = setTimeout(async () => {
      probeTimer = undefined;
      if (breaker !== 'open' || closed) return;
      // An overdue reply means the probe would only queue behind it.
      if (ready && overdue === 0) {
        const writeProbe = failure !== undefined && WRITE_REFUSALS.has(failure);
        try {
          // Every master must answer: a cluster with one shard down is not serving.
          const masters = await withDeadline(topologyClient.masters());
          await withDeadline(
            Promise.all(
              masters.map((node) =>
                writeProbe
                  ? node.set(WRITE_PROBE_KEY, '1', { expiration: { type: 'PX', value: 1000 } })
                  : node.ping(),
              ),
            ),
          );
          closeBreaker();
          return;
        } catch (error) {
          if (isErrorReply(error)) {
            const kind = replyFailure(error);
            if (kind) failed(kind, error);
          }
          openedAt = clock.now();
        }
      }
      scheduleProbe();
    }, breakerCooldownMs);
    probeTimer.unref();
  };

  // A node client retries its first connect by itself; cluster and sentinel clients give up when no
  // seed answers, so they are retried here with the same capped backoff.
  let connectTimer: ReturnType<typeof setTimeout> | undefined;
  const connect = (attempt: number) => {
    topologyClient.connect().catch((error: unknown) => {
      if (topology.kind === 'node' || closed) return; // node errors also went to 'error'
      failed(classifyFailure(error, tls), error);
      connectTimer = setTimeout(
        () => connect(attempt + 1),
        Math.min(50 * 2 ** Math.min(attempt, 10), maxReconnectDelayMs),
      );
      connectTimer.unref();
    });
  };
  connect(0);

  /**
   * Reject after `commandTimeoutMs`, or after twice that when `patient`; a reply still missing at
   * twice the bound marks Redis hung (`overdue`) until it arrives.
   */
  function withDeadline<T>(promise: Promise<T>, patient = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let late = false;
      let verdict: ReturnType<typeof setTimeout> | undefined;
      // Why setImmediate: after the event loop was blocked (a loaded process), expired timers run
      // before pending I/O. Deferring to the check phase lets a reply already in the socket buffer
      // win, so a busy process does not see a healthy Redis as timed out.
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (settled) return;
            if (!patient) reject(new StoreUnavailableError('timeout'));
            // Still no reply another bound later: hung, not just slow under a burst (a slow reply
            // must not send every call after it to the local fallback).
            verdict = setTimeout(() => {
              if (settled) return;
              late = true;
              overdue++;
              update();
              reject(new StoreUnavailableError('timeout'));
            }, commandTimeoutMs);
            verdict.unref();
          }),
        commandTimeoutMs,
      );
      const settle = () => {
        settled = true;
        clearTimeout(timer);
        if (verdict) clearTimeout(verdict);
        if (late) {
          overdue--;
          update();
        }
      };
      promise.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  }

  async function run<T>(
    fn: (client: RedisClient) => Promise<T>,
    on: RedisClient = client,
    patient = false,
  ): Promise<T> {
    if (closed) throw new StoreUnavailableError('closed');
    if (!ready || !topologyClient.isReady()) throw new StoreUnavailableError('offline');
    if (breaker === 'half_open' || (breaker === 'open' && clock.now() - openedAt < breakerCooldownMs)) {
      throw new StoreUnavailableError('breaker_open');
    }
    // Replies come in order: a command sent now would only wait behind the overdue one. It counts
    // as a failure, so a hung Redis opens the breaker as a dead one does.
    if (overdue > 0) {
      onFailure();
      throw new StoreUnavailableError('overdue');
    }
    if (breaker === 'open') breaker = 'half_open'; // this call is the trial; others fail fast until it settles
    try {
      const value = await withDeadline(fn(on), patient);
      onSuccess();
      return value;
    } catch (error) {
      if (isErrorReply(error)) {
        const kind = replyFailure(error);
        if (kind === undefined) {
          // Redis answered: it is up, the command was wrong.
          closeBreaker();
          throw error;
        }
        // Redis answers but will not serve us (refused writes, revoked credentials): degraded
        // until the probe's write succeeds, rather than failing every write one by one.
        failed(kind, error);
        openBreaker();
        throw new StoreUnavailableError('refused', { cause: error });
      }
      if (error instanceof StoreUnavailableError) {
        if (error.reason === 'timeout') failed('timeout', error);
        onFailure();
        throw error;
      }
      failed(classifyFailure(error, tls), error);
      onFailure(true);
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
    get failure() {
      return available ? undefined : failure;
    },
    run: (fn) => run(fn),
    async masters() {
      const nodes = await run(() => topologyClient.masters());
      return nodes.map((node) => ({ run: (fn) => run(fn, node) }));
    },
    async evalScript(script, keys, args) {
      const options = { keys, arguments: args.map(String) };
      // Scripts are limiter decisions: one given up on while Redis was merely slow may have been
      // counted there and is then admitted again locally (over-admission), so a script waits until
      // Redis is judged hung (twice the bound) rather than the bound itself.
      try {
        return await run((c) => c.evalSha(shaOf(script), options), client, true);
      } catch (error) {
        if (isErrorReply(error) && error.message.startsWith('NOSCRIPT')) {
          return run((c) => c.eval(script, options), client, true);
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
      if (connectTimer) clearTimeout(connectTimer);
      update();
      try {
        topologyClient.destroy();
      } catch {
        // Already closed.
      }
    },
  };
}
