import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisConnection, type RedisConnection } from '../../src/redis/connection.ts';
import { isStoreUnavailableError } from '../../src/redis/errors.ts';
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
