import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection, type RedisConnection } from '../../src/redis/connection.ts';
import { isStoreUnavailableError } from '../../src/redis/errors.ts';
import type { RedisLogger } from '../../src/redis/failures.ts';
import { redactRedisUrl } from '../../src/redis/url.ts';
import { freePort } from '../helpers/ports.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { startProxy } from './proxy.ts';

const telemetry = useTestTelemetry();
const STORE = { 'alchemist.store': 'redis' };

async function until(check: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface LogLine {
  readonly level: 'warn' | 'info';
  readonly message: string;
  readonly fields: Record<string, string | number>;
}
function captureLog(lines: LogLine[]): RedisLogger {
  return {
    warn: (message, fields = {}) => lines.push({ level: 'warn', message, fields }),
    info: (message, fields = {}) => lines.push({ level: 'info', message, fields }),
  };
}
const ofKind = (lines: readonly LogLine[], kind: string) => lines.filter((line) => line.fields.kind === kind);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; error?: unknown; value?: T }> {
  const start = performance.now();
  try {
    const value = await fn();
    return { ms: performance.now() - start, value };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

describe('createRedisConnection', () => {
  let redis: RedisServer;
  const open: RedisConnection[] = [];
  const connect = (url: string, extra = {}) => {
    const connection = createRedisConnection({ url, ...extra });
    open.push(connection);
    return connection;
  };

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
    await redis.stop();
  });

  it('validates its options, naming the bad value', () => {
    expect(() => createRedisConnection({ url: '' })).toThrow(/url is required/);
    expect(() => createRedisConnection({ url: 'http://x' })).toThrow(/redis:\/\//);
    expect(() => createRedisConnection({ url: redis.url, commandTimeoutMs: 0 })).toThrow(
      /commandTimeoutMs must be a number >= 1, got 0/,
    );
  });

  it('never shows a password', () => {
    expect(redactRedisUrl('redis://user:s3cret@host:6379/0')).toBe('redis://user:***@host:6379/0');
    expect(redactRedisUrl('redis://:s3cret@host:6379')).not.toContain('s3cret');
    expect(redactRedisUrl('not a url s3cret')).not.toContain('s3cret');
  });

  it('runs commands and scripts (EVALSHA with NOSCRIPT fallback)', async () => {
    const connection = connect(redis.url);
    await until(() => connection.available, 'available');
    await connection.run((c) => c.set('conn-test:a', '1'));
    expect(await connection.run((c) => c.get('conn-test:a'))).toBe('1');
    const script = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
    expect(await connection.evalScript(script, ['conn-test:n'], [5])).toBe(5);
    await connection.run((c) => c.scriptFlush());
    expect(await connection.evalScript(script, ['conn-test:n'], [2])).toBe(7);
    // A Redis error reply passes through and does not count against availability.
    await expect(connection.run((c) => c.lPush('conn-test:a', 'x'))).rejects.toThrow(/WRONGTYPE/);
    expect(connection.available).toBe(true);
    expect(await telemetry.gauge('alchemist.store.available', STORE)).toBe(1);
  });

  it('does not report a healthy Redis as timed out when the process itself was busy (regression)', async () => {
    // Bug: after a blocked event loop, expired timers run before pending I/O, so the 50 ms deadline
    // fired although the reply was already there, and the rate limiter fell back to local limits.
    const connection = connect(redis.url, { commandTimeoutMs: 50, failureThreshold: 1 });
    await until(() => connection.available, 'available');
    const pong = connection.run((c) => c.ping());
    // node-redis writes queued commands in a setImmediate: let it send PING before the loop blocks,
    // so the reply (not the request) is what waits while the process is busy.
    await new Promise((resolve) => setImmediate(resolve));
    // Busy long enough that the reply is surely waiting on the socket when the loop wakes, even when
    // redis-server itself is descheduled on a loaded machine (150 ms was sometimes too short here).
    const busyUntil = performance.now() + 500;
    while (performance.now() < busyUntil) {
      // busy: the reply arrives while the loop is blocked
    }
    expect(await pong).toBe('PONG');
    expect(connection.available).toBe(true);
  });

  it('fails fast while Redis is dead, then recovers by itself when it returns', async () => {
    const connection = connect(redis.url);
    await until(() => connection.available, 'available');
    const changes: boolean[] = [];
    connection.onAvailabilityChange((available) => changes.push(available));

    await redis.kill();
    await until(() => !connection.available, 'unavailable');
    expect(await telemetry.gauge('alchemist.store.available', STORE)).toBe(0);
    for (let i = 0; i < 20; i++) {
      const attempt = await timed(() => connection.run((c) => c.get('conn-test:a')));
      expect(isStoreUnavailableError(attempt.error)).toBe(true);
      expect(attempt.ms).toBeLessThan(50);
    }

    await redis.restart();
    await until(() => connection.available, 'available again');
    expect(await telemetry.gauge('alchemist.store.available', STORE)).toBe(1);
    expect(await connection.run((c) => c.ping())).toBe('PONG');
    expect(changes).toEqual([false, true]);
  });

  it('bounds a hung Redis by commandTimeoutMs, opens its breaker, and closes it when Redis answers', async () => {
    const proxy = await startProxy(redis.port);
    try {
      const connection = connect(proxy.url, {
        commandTimeoutMs: 50,
        failureThreshold: 3,
        breakerCooldownMs: 200,
      });
      await until(() => connection.available, 'available');
      proxy.freeze();
      const attempts = [];
      for (let i = 0; i < 3; i++) attempts.push(await timed(() => connection.run((c) => c.get('k'))));
      for (const attempt of attempts) {
        expect(isStoreUnavailableError(attempt.error)).toBe(true);
        expect(attempt.ms).toBeLessThan(250); // 50 ms bound, generous for a loaded machine
      }
      expect(connection.available).toBe(false);
      const fast = await timed(() => connection.run((c) => c.get('k')));
      expect(fast.error).toMatchObject({ reason: 'breaker_open' });
      expect(fast.ms).toBeLessThan(20);

      proxy.thaw();
      await until(() => connection.available, 'breaker closed by the probe');
      expect(await connection.run((c) => c.ping())).toBe('PONG');
    } finally {
      await proxy.close();
    }
  });

  it('costs a hung Redis one timeout: later runs fail at once while a reply is overdue (regression: ~1 s per request)', async () => {
    // Bug: every run waited its own timeout behind a frozen Redis (1 s each with the gateway's old
    // default) until the breaker opened, and again on every half-open trial.
    const proxy = await startProxy(redis.port);
    try {
      const lines: LogLine[] = [];
      // A breaker that never opens, so only the overdue reply can make runs fail fast.
      const connection = connect(proxy.url, { failureThreshold: 1000, logger: captureLog(lines) });
      await until(() => connection.available, 'available');
      proxy.freeze();
      await expect(connection.run((c) => c.get('k'))).rejects.toMatchObject({ reason: 'timeout' });
      // Still no reply a second bound later: hung.
      await until(() => !connection.available, 'hung');
      expect(connection.failure).toBe('timeout');
      expect(await telemetry.gauge('alchemist.store.available', STORE)).toBe(0);
      const sent = proxy.held;
      for (let i = 0; i < 5; i++) {
        await expect(connection.run((c) => c.get('k'))).rejects.toMatchObject({ reason: 'overdue' });
      }
      // Nothing more was sent to the frozen server, and it is still frozen: nobody waited for it.
      expect(proxy.held).toBe(sent);
      expect(proxy.frozen).toBe(true);
      expect(ofKind(lines, 'timeout')).toHaveLength(1);

      proxy.thaw();
      await until(() => connection.available, 'available once the overdue reply arrived');
      expect(connection.failure).toBeUndefined();
      expect(await connection.run((c) => c.ping())).toBe('PONG');
      expect(lines.filter((line) => line.level === 'info')).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('reports a Redis that refuses writes (OOM) as unavailable, logs it once, and recovers (regression: silent)', async () => {
    // Bug: OOM replies passed through as ordinary command errors: no log line, gauge 1, /readyz ready.
    const lines: LogLine[] = [];
    const connection = connect(redis.url, { breakerCooldownMs: 50, logger: captureLog(lines) });
    const admin = createClient({ url: redis.url });
    await admin.connect();
    try {
      await until(() => connection.available, 'available');
      await admin.set('oom-test:fill', 'x'.repeat(2_000_000));
      await admin.configSet({ maxmemory: '1mb', 'maxmemory-policy': 'noeviction' });
      const refused = await connection.run((c) => c.set('oom-test:a', 'v')).catch((error: unknown) => error);
      expect(refused).toMatchObject({ reason: 'refused' });
      expect(isStoreUnavailableError(refused)).toBe(true);
      expect(connection.available).toBe(false);
      expect(connection.failure).toBe('oom');
      expect(await telemetry.gauge('alchemist.store.available', STORE)).toBe(0);
      // Many more writes and several failed write probes later: still one line for this kind.
      for (let i = 0; i < 50; i++) await connection.run((c) => c.set(`oom-test:${i}`, 'v')).catch(() => {});
      await sleep(300);
      expect(connection.available).toBe(false);
      expect(ofKind(lines, 'oom')).toHaveLength(1);
      expect(ofKind(lines, 'oom')[0]).toMatchObject({
        level: 'warn',
        fields: { store: 'redis', kind: 'oom', code: 'OOM', server: `127.0.0.1:${redis.port}` },
      });

      await admin.configSet({ maxmemory: '0' });
      await until(() => connection.available, 'available after the write probe');
      expect(connection.failure).toBeUndefined();
      expect(await telemetry.gauge('alchemist.store.available', STORE)).toBe(1);
      expect(await connection.run((c) => c.set('oom-test:after', 'v'))).toBe('OK');
    } finally {
      await admin.configSet({ maxmemory: '0' });
      await admin.del(['oom-test:fill']);
      admin.destroy();
    }
  });

  it('logs rejected credentials once, without the password (regression: silent)', async () => {
    const secured = await startRedis({ args: ['--requirepass', 'right-pass-8842'] });
    try {
      const lines: LogLine[] = [];
      const connection = connect(`redis://:wrong-pass-5531@127.0.0.1:${secured.port}`, {
        maxReconnectDelayMs: 50,
        logger: captureLog(lines),
      });
      await until(() => ofKind(lines, 'auth').length > 0, 'an auth log line');
      await sleep(400); // several reconnect attempts, each rejected again
      expect(ofKind(lines, 'auth')).toEqual([
        {
          level: 'warn',
          message: expect.stringMatching(/credentials/),
          fields: { store: 'redis', server: `127.0.0.1:${secured.port}`, kind: 'auth', code: 'WRONGPASS' },
        },
      ]);
      expect(JSON.stringify(lines)).not.toContain('wrong-pass');
      expect(connection.available).toBe(false);
      expect(connection.failure).toBe('auth');
    } finally {
      await secured.stop();
    }
  });

  it('logs a TLS mismatch (rediss:// to a plain port) once (regression: silent)', async () => {
    const lines: LogLine[] = [];
    const connection = connect(`rediss://127.0.0.1:${redis.port}`, {
      connectTimeoutMs: 100,
      maxReconnectDelayMs: 50,
      logger: captureLog(lines),
    });
    await until(() => ofKind(lines, 'tls').length > 0, 'a tls log line');
    await sleep(400);
    expect(ofKind(lines, 'tls')).toHaveLength(1);
    expect(lines.every((line) => line.fields.kind === 'tls')).toBe(true);
    expect(connection.available).toBe(false);
    expect(connection.failure).toBe('tls');
  });

  it('fails fast (offline, gauge 0) when Redis was never there', async () => {
    const port = await freePort();
    const connection = connect(`redis://127.0.0.1:${port}`);
    expect(connection.available).toBe(false);
    const attempt = await timed(() => connection.run((c) => c.ping()));
    expect(attempt.error).toMatchObject({ reason: 'offline' });
    expect(attempt.ms).toBeLessThan(50);
    expect(await telemetry.gauge('alchemist.store.available', STORE)).toBe(0);
  });

  it('rejects after close', async () => {
    const connection = connect(redis.url);
    await connection.close();
    await connection.close();
    await expect(connection.run((c) => c.ping())).rejects.toMatchObject({ reason: 'closed' });
  });
});
