import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { budgetPolicy } from '../../src/budget/policy.ts';
import type { CallContext } from '../../src/core/context.ts';
import { isBudgetExceededError } from '../../src/core/errors.ts';
import { jsonResult } from '../../src/core/result.ts';
import { estimateInputTokens, loadTokenizer } from '../../src/ratelimit/tokens.ts';
import type { RedisConnection } from '../../src/redis/connection.ts';
import { createRedisConnection } from '../../src/redis/connection.ts';
import { type RedisServer, startRedis } from '../helpers/redis.ts';
import { ctxFor, manualClock } from '../ratelimit/helpers.ts';
import { chat, MODEL, TODAY_10AM } from './helpers.ts';

await loadTokenizer();
const holder = fileURLToPath(new URL('./fixtures/holder.ts', import.meta.url));

let server: RedisServer;
const connections: RedisConnection[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await Promise.all(connections.map((c) => c.close()));
  await server?.stop();
});

async function until(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function connect(): Promise<RedisConnection> {
  const redis = createRedisConnection({ url: server.url, commandTimeoutMs: 2000, breakerCooldownMs: 100 });
  connections.push(redis);
  await until(() => redis.available, 'Redis connection');
  return redis;
}

const answering = (input: number, output: number) => async (ctx: CallContext) => {
  ctx.decisions.upstreamAttempts++;
  return jsonResult({ choices: [], usage: { prompt_tokens: input, completion_tokens: output } });
};
const allowed = (promise: Promise<unknown>) =>
  promise.then(
    () => true,
    (error: unknown) => {
      if (isBudgetExceededError(error)) return false;
      throw error;
    },
  );

const hold = chat('hold', 10);
/** The holder's reservation: its prompt at $1 a token, 10 output tokens at $2. */
const holdUsd = estimateInputTokens(hold) + 20;

describe('budgets in Redis', () => {
  it("two policies on two connections share one tenant's spend exactly, with a key that expires after the period", async () => {
    const keyPrefix = `t:${randomUUID()}:`;
    const [a, b] = [await connect(), await connect()];
    const clock = manualClock(TODAY_10AM);
    const make = (redis: RedisConnection) =>
      budgetPolicy({ tiers: { metered: { budgetUsd: 20, period: 'day' } }, redis, keyPrefix, clock });
    const [one, two] = [make(a), make(b)];
    const run = (policy: typeof one) =>
      allowed(
        policy.execute(
          ctxFor({ model: MODEL, tier: 'metered', tenant: 'shared', request: chat('x', 0) }),
          answering(4, 0),
        ),
      );
    // $4 each, alternating between the two: admitted while the spend so far + the prompt's estimate fits.
    const results: boolean[] = [];
    for (let i = 0; i < 6; i++) results.push(await run(i % 2 === 0 ? one : two));
    const estimate = estimateInputTokens(chat('x', 0));
    const fits = Math.floor((20 - estimate) / 4) + 1;
    expect(results).toEqual(Array.from({ length: 6 }, (_, i) => i < fits));
    expect((await two.report())[0]).toMatchObject({ spentUsd: 4 * fits, reservedUsd: 0, period: 'day' });
    expect(one.state()).toEqual({ mode: 'redis', degraded: false });
    const day = new Date(TODAY_10AM).toISOString().slice(0, 10);
    // Expires an hour after the period ends (midnight UTC), by Redis' clock: set with PEXPIREAT.
    const expireAt = Number(await a.run((client) => client.pExpireTime(`${keyPrefix}{shared}:${day}`)));
    expect(expireAt).toBe(TODAY_10AM + 15 * 3600 * 1000);
  });

  it('drops a reservation held by a crashed process once it expires', async () => {
    const keyPrefix = `t:${randomUUID()}:`;
    const budgetUsd = holdUsd + 10;
    const child = fork(holder, [server.url, keyPrefix, String(budgetUsd), String(TODAY_10AM), '60000'], {
      execPath: process.execPath,
      execArgv: [],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.push(child);
    const reserved = await new Promise<{ reserved: string }>((resolve) =>
      child.once('message', resolve as never),
    );
    expect(reserved.reserved).toBe('redis');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;

    const clock = manualClock(TODAY_10AM);
    const policy = budgetPolicy({
      tiers: { metered: { budgetUsd, period: 'day' } },
      redis: await connect(),
      keyPrefix,
      clock,
    });
    const status = async () => (await policy.report([{ tenant: 'shared', tier: 'metered' }]))[0];
    expect(await status()).toMatchObject({ spentUsd: 0, reservedUsd: holdUsd });
    // The dead holder's estimate still counts: a call needing more than the $10 left is refused.
    const big = () =>
      allowed(
        policy.execute(
          ctxFor({ model: MODEL, tier: 'metered', tenant: 'shared', request: hold }),
          answering(1, 0),
        ),
      );
    expect(await big()).toBe(false);
    clock.advance(59_999);
    expect(await big()).toBe(false);
    clock.advance(1);
    expect(await status()).toMatchObject({ spentUsd: 0, reservedUsd: 0 });
    expect(await big()).toBe(true);
  });

  it('counts locally while Redis is down (visible), then adds that spend to Redis when it is back', async () => {
    const keyPrefix = `t:${randomUUID()}:`;
    const redis = await connect();
    const clock = manualClock(TODAY_10AM);
    const lines: string[] = [];
    const logger = {
      warn: (message: string) => lines.push(`warn ${message}`),
      info: (message: string) => lines.push(`info ${message}`),
    };
    const policy = budgetPolicy({
      tiers: { metered: { budgetUsd: 1000, period: 'day' } },
      redis,
      keyPrefix,
      clock,
      logger,
    });
    const run = () =>
      policy.execute(
        ctxFor({ model: MODEL, tier: 'metered', tenant: 'shared', request: chat('x', 0) }),
        answering(5, 0),
      );
    await run();
    await server.kill();
    await until(() => !redis.available, 'Redis seen down');
    await run();
    expect(policy.state()).toEqual({ mode: 'local-fallback', degraded: true });
    // Seeded from the $5 Redis reported, plus the $5 charged here.
    expect((await policy.report())[0]).toMatchObject({ spentUsd: 10 });
    await server.restart();
    await until(() => redis.available, 'Redis back');
    await until(() => policy.state().mode === 'redis', 'budgets shared again');
    // The restarted Redis lost the first $5 (no persistence); the $5 charged during the outage reached it.
    let spent: number | undefined;
    for (let i = 0; i < 100 && spent !== 5; i++) {
      spent = (await policy.report())[0]?.spentUsd;
      if (spent !== 5) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(spent).toBe(5);
    // Logged once each way, however many calls ran meanwhile.
    expect(lines).toEqual([
      'warn Redis unavailable: budgets are counted per process until it is back',
      'info budgets are shared again (Redis available)',
    ]);
    await run();
    expect((await policy.report())[0]).toMatchObject({ spentUsd: 10 });
  });
});
