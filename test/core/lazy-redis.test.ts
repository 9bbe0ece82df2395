import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Imports the package roots in a fresh process, uses memory-only policies, reports whether node-redis loaded. */
const script = `
import { createRequire } from 'node:module';
const root = ${JSON.stringify(root)};
const pack = await import(root + 'src/index.ts');
await import(root + 'src/hono/index.ts');
const cache = pack.aiCachePolicy({ ttl: 60 });
pack.tierRateLimitPolicy({ tiers: { free: { requestsPerMinute: 10 } }, defaultTier: 'free' });
await cache.clear();
const redisLoaded = () =>
  Object.keys(createRequire(import.meta.url).cache).some((path) => /node_modules[\\\\/](redis|@redis)[\\\\/]/.test(path));
const before = redisLoaded();
const connection = pack.createRedisConnection({ url: 'redis://127.0.0.1:1', connectTimeoutMs: 50 });
const after = redisLoaded();
await connection.close();
console.log(JSON.stringify({ before, after }));
`;

describe('memory-only users', () => {
  it('never load the Redis client; creating a Redis connection does', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      timeout: 20_000,
    });
    expect(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({ before: false, after: true });
  });
});
