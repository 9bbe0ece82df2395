import { Hono } from 'hono';
import { aiCache, aiContext, aiHandler } from '../../src/hono/index.ts';
import { aiCachePolicy, createRedisConnection, jsonResult, withCache } from '../../src/index.ts';

declare function callProvider(request: Record<string, unknown>): Promise<unknown>;

// One Redis connection per process, shared with the rate limiter (optional: memory only without it).
const redis = createRedisConnection({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
const cache = aiCachePolicy({ redis, ttl: 3600, maxMemoryItems: 10_000, staleIfError: 600 });

const app = new Hono();
app.use('/v1/*', aiContext());
app.use('/v1/*', aiCache(cache)); // Cache-Status: alchemist-perf; hit; ttl=3541
app.post(
  '/v1/chat/completions',
  aiHandler(async (ctx) => jsonResult(await callProvider(ctx.request))),
);
app.post('/admin/cache/clear', async (c) => {
  await cache.clear(c.req.query('tenant')); // one tenant, or everything
  return c.json(cache.stats());
});

// Or around a plain function (an SDK call): same policy, same keys.
const create = withCache(async (request: { model: string; messages: unknown[] }) => callProvider(request), {
  cache,
  tenant: 'acme',
});

export { app, create };
