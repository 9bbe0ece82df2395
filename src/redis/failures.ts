import { diag } from '@opentelemetry/api';
import { isConnectionTimeout, isErrorReply } from './driver.ts';

/**
 * Why Redis is not serving, as logged and shown in `/readyz`: a closed union, so the values can go
 * on log lines and telemetry as they are.
 * - `auth`: the server rejected the credentials (WRONGPASS, NOAUTH, NOPERM).
 * - `tls`: the TLS handshake failed or never finished (`rediss://` to a plain port, bad certificate).
 * - `unreachable`: nothing listens there, or the name does not resolve.
 * - `timeout`: connected, but no answer within the bound (a hung or overloaded server).
 * - `oom`, `readonly`, `misconf`: the server answers but refuses writes (maxmemory with noeviction,
 *   a replica, failing persistence with stop-writes-on-bgsave-error).
 * - `connection`: any other socket failure.
 */
export type RedisFailureKind =
  | 'auth'
  | 'tls'
  | 'unreachable'
  | 'timeout'
  | 'oom'
  | 'readonly'
  | 'misconf'
  | 'connection';

/** Failure kinds where Redis is up but refuses writes: a write (not a PING) proves recovery. */
export const WRITE_REFUSALS: ReadonlySet<RedisFailureKind> = new Set(['oom', 'readonly', 'misconf']);

const REPLY_KINDS: ReadonlyArray<readonly [string, RedisFailureKind]> = [
  ['OOM', 'oom'],
  ['READONLY', 'readonly'],
  ['MISCONF', 'misconf'],
  ['WRONGPASS', 'auth'],
  ['NOAUTH', 'auth'],
  ['NOPERM', 'auth'],
];

/** The first word of an error reply (`OOM`, `WRONGTYPE`), or the error's code or class name: never its text. */
export function failureCode(error: unknown): string {
  if (isErrorReply(error)) return /^[A-Z]+/.exec(error.message)?.[0] ?? 'ERR';
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
  return error instanceof Error ? error.constructor.name : 'unknown';
}

/**
 * The failure kind of an error reply that means "this server cannot serve us" (refused writes, bad
 * credentials), or undefined for a reply about the command itself (WRONGTYPE, a script error).
 */
export function replyFailure(error: Error): RedisFailureKind | undefined {
  const code = failureCode(error);
  return REPLY_KINDS.find(([prefix]) => code === prefix)?.[1];
}

/** Classify a connection-level error (from the client's 'error' event or a failed command). */
export function classifyFailure(error: unknown, tls: boolean): RedisFailureKind {
  if (isErrorReply(error)) return replyFailure(error) ?? 'connection';
  const code = failureCode(error);
  if (/^ERR_(SSL|TLS)|^(CERT|DEPTH|UNABLE_TO|SELF_SIGNED)/.test(code)) return 'tls';
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code)) {
    return 'unreachable';
  }
  // A `rediss://` client to a plain port waits for a ServerHello that never comes.
  if (isConnectionTimeout(error)) return tls ? 'tls' : 'timeout';
  return 'connection';
}

const MESSAGES: Record<RedisFailureKind, string> = {
  auth: 'Redis rejected the credentials: check the user and password of the Redis URL',
  tls: 'Redis TLS handshake failed: check rediss:// vs redis:// and the server certificate',
  unreachable: 'Redis is unreachable',
  timeout: 'Redis did not answer in time',
  oom: 'Redis refuses writes: out of memory (maxmemory reached, eviction policy noeviction)',
  readonly: 'Redis refuses writes: the node is a read-only replica',
  misconf: 'Redis refuses writes: its persistence is failing (MISCONF)',
  connection: 'Redis connection failed',
};

/** Where a connection's failure lines go; the gateway's `Logger` fits. */
export interface RedisLogger {
  warn(message: string, fields?: Record<string, string | number>): void;
  info(message: string, fields?: Record<string, string | number>): void;
}

/** The default: OpenTelemetry's diag logger (silent unless the app registered one). */
export const diagLogger: RedisLogger = {
  warn: (message, fields) => diag.warn(`alchemist-perf: ${message}`, fields),
  info: (message, fields) => diag.info(`alchemist-perf: ${message}`, fields),
};

/**
 * One log line per failure kind per interval: the first at once, later ones counted and reported
 * with the next line of that kind (`repeated`). A Redis that fails thousands of writes writes one
 * line a minute, not thousands. Lines carry the host and codes only, never the URL's credentials or
 * a reply's text.
 */
export function failureReporter(options: {
  logger: RedisLogger;
  /** `host:port` of the server (no credentials). */
  server: string;
  intervalMs: number;
  now: () => number;
}) {
  const last = new Map<RedisFailureKind | 'recovered', { at: number; repeated: number }>();
  const due = (kind: RedisFailureKind | 'recovered'): number | undefined => {
    const now = options.now();
    const seen = last.get(kind);
    if (seen && now - seen.at < options.intervalMs) {
      seen.repeated++;
      return undefined;
    }
    last.set(kind, { at: now, repeated: 0 });
    return seen?.repeated ?? 0;
  };
  return {
    failed(kind: RedisFailureKind, error: unknown): void {
      const repeated = due(kind);
      if (repeated === undefined) return;
      const fields: Record<string, string | number> = {
        store: 'redis',
        server: options.server,
        kind,
        code: failureCode(error),
      };
      if (repeated > 0) fields.repeated = repeated;
      try {
        options.logger.warn(MESSAGES[kind], fields);
      } catch {
        // Logging never breaks the connection.
      }
    },
    recovered(): void {
      if (due('recovered') === undefined) return;
      try {
        options.logger.info('Redis is available again', { store: 'redis', server: options.server });
      } catch {
        // Logging never breaks the connection.
      }
    },
  };
}
