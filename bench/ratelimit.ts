/**
 * Per-request cost of the rate limiter, without HTTP: one `execute()` around a no-op upstream, in a
 * closed loop, local (in-process buckets) and on Redis (one EVALSHA per decision). Used by
 * `npm run bench` (bench/main.ts imports `benchRateLimit`), and runnable alone:
 *
 *   node bench/ratelimit.ts            # Redis from REDIS_URL, else a redis-server it starts itself
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { CallContext } from '../src/core/context.ts';
import { createCallContext } from '../src/core/context.ts';
import { isRateLimitedError } from '../src/core/errors.ts';
import { jsonResult } from '../src/core/result.ts';
import { modelRateLimitPolicy } from '../src/ratelimit/model-policy.ts';
import { tierRateLimitPolicy } from '../src/ratelimit/tier-policy.ts';
import { countText } from '../src/ratelimit/tokens.ts';
import { createRedisConnection, type RedisConnection } from '../src/redis/connection.ts';

export interface RateLimitBenchResult {
  readonly name: string;
  readonly opsPerSec: number;
  readonly nsPerOp: number;
  readonly ops: number;
  /** Calls in flight at once (1 = sequential latency; more = throughput with pipelining). */
  readonly concurrency: number;
}

const DURATION_MS = Number(process.env.BENCH_RATELIMIT_MS ?? 600);
const SYSTEM = 'You are a helpful assistant that answers briefly and cites sources when it can.';
const upstream = async () =>
  jsonResult({
    choices: [{ message: { content: 'ok' } }],
    usage: { prompt_tokens: 40, completion_tokens: 1 },
  });

function contextFor(i: number, tier = 'pro'): CallContext {
  return createCallContext({
    provider: 'openai',
    model: 'gpt-4o',
    tenant: `tenant-${i % 1000}`,
    tier,
    request: {
      model: 'gpt-4o',
      max_tokens: 64,
      messages: [
        { role: 'system', content: SYSTEM },
        { role: 'user', content: `Question number ${i % 200}: what is the capital of France?` },
      ],
    },
  });
}

async function measure(
  name: string,
  concurrency: number,
  op: (i: number) => Promise<unknown>,
): Promise<RateLimitBenchResult> {
  for (let i = 0; i < 2000; i++) await op(i); // warm-up: JIT, tokenizer cache, script load
  let ops = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(DURATION_MS) * 1_000_000n;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (process.hrtime.bigint() < deadline) await op(ops++);
    }),
  );
  const elapsedNs = Number(process.hrtime.bigint() - started);
  return {
    name,
    ops,
    concurrency,
    opsPerSec: Math.round((ops / elapsedNs) * 1e9),
    nsPerOp: Math.round(elapsedNs / ops),
  };
}

const generous = { requestsPerMinute: 1e9, tokensPerMinute: 1e12, maxConcurrent: 1_000_000 };

async function localCases(): Promise<RateLimitBenchResult[]> {
  const results: RateLimitBenchResult[] = [];
  const baseline = await measure('baseline: no limiter (upstream only)', 1, (i) =>
    upstream().then(() => contextFor(i)),
  );
  results.push(baseline);
  const requestsOnly = tierRateLimitPolicy({ tiers: { pro: { requestsPerMinute: 1e9 } } });
  results.push(
    await measure('tier local: requests bucket', 1, (i) => requestsOnly.execute(contextFor(i), upstream)),
  );
  const full = tierRateLimitPolicy({ tiers: { pro: generous } });
  results.push(
    await measure('tier local: requests + tokens (estimate, settle) + concurrency', 1, (i) =>
      full.execute(contextFor(i), upstream),
    ),
  );
  const strict = tierRateLimitPolicy({ tiers: { pro: { requestsPerMinute: 1 } } });
  results.push(
    await measure('tier local: rejected (429 path)', 1, (i) =>
      strict.execute(contextFor(i), upstream).catch((error: unknown) => {
        if (!isRateLimitedError(error)) throw error;
      }),
    ),
  );
  const model = modelRateLimitPolicy({
    models: { 'gpt-4o': { requestsPerMinute: 1e9, tokensPerMinute: 1e12, maxConcurrent: 1e6 } },
  });
  results.push(
    await measure('model local: window + tokens + concurrency', 1, (i) =>
      model.execute(contextFor(i), upstream),
    ),
  );
  let unique = 0;
  results.push(
    await measure('token estimate: uncached 60-char message', 1, async () =>
      countText(`Unique question ${unique++}: what is the capital of France today?`),
    ),
  );
  results.push(
    await measure('token estimate: cached message', 1, async (i) =>
      countText(`Question number ${i % 200}: what is the capital of France?`),
    ),
  );
  return results;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function ownRedis(): Promise<{ url: string; stop(): void } | undefined> {
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
  } catch {
    return undefined;
  }
  const failed = new Promise<undefined>((resolve) => child.once('error', () => resolve(undefined)));
  const ready = (async () => {
    for (let i = 0; i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 30));
      if (child.exitCode !== null) return undefined;
      const open = await new Promise<boolean>((resolve) => {
        const s = createServer();
        s.once('error', () => resolve(true)); // port taken = redis listening
        s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
      });
      if (open) return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
    }
    child.kill('SIGKILL');
    return undefined;
  })();
  return Promise.race([ready, failed]);
}

async function redisCases(): Promise<RateLimitBenchResult[] | string> {
  const own = process.env.REDIS_URL ? undefined : await ownRedis();
  const url = process.env.REDIS_URL ?? own?.url;
  if (!url) return 'skipped: no REDIS_URL and redis-server could not be started';
  let redis: RedisConnection | undefined;
  try {
    redis = createRedisConnection({ url, commandTimeoutMs: 1000 });
    const deadline = Date.now() + 5000;
    while (!redis.available && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (!redis.available) return `skipped: Redis at ${url.replace(/\/\/.*@/, '//***@')} did not answer`;
    const keyPrefix = `bench:${process.pid}:`;
    const requestsOnly = tierRateLimitPolicy({
      tiers: { pro: { requestsPerMinute: 1e9 } },
      redis,
      keyPrefix,
    });
    const full = tierRateLimitPolicy({ tiers: { pro: generous }, redis, keyPrefix });
    return [
      await measure('tier redis: requests bucket (sequential)', 1, (i) =>
        requestsOnly.execute(contextFor(i), upstream),
      ),
      await measure('tier redis: requests bucket (64 in flight)', 64, (i) =>
        requestsOnly.execute(contextFor(i), upstream),
      ),
      await measure('tier redis: requests + tokens + concurrency (sequential)', 1, (i) =>
        full.execute(contextFor(i), upstream),
      ),
      await measure('tier redis: requests + tokens + concurrency (64 in flight)', 64, (i) =>
        full.execute(contextFor(i), upstream),
      ),
    ];
  } finally {
    await redis?.close();
    own?.stop();
  }
}

/** Local and Redis limiter costs per call (ns/op and ops/s). */
export async function benchRateLimit(): Promise<{
  local: RateLimitBenchResult[];
  redis: RateLimitBenchResult[] | string;
}> {
  const local = await localCases();
  const redis = await redisCases();
  return { local, redis };
}

if (import.meta.main) {
  const { local, redis } = await benchRateLimit();
  const rows = [...local, ...(typeof redis === 'string' ? [] : redis)];
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    process.stdout.write(
      `${r.name.padEnd(width)}  ${String(r.nsPerOp).padStart(9)} ns/op  ${String(r.opsPerSec).padStart(10)} ops/s\n`,
    );
  }
  if (typeof redis === 'string') process.stdout.write(`redis: ${redis}\n`);
}
