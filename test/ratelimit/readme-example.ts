import { Hono } from 'hono';
import { aiContext, aiHandler, aiRateLimit } from '../../src/hono/index.ts';
import { createRedisConnection, modelRateLimitPolicy } from '../../src/index.ts';

const redis = createRedisConnection({ url: 'redis://127.0.0.1:6379' });
const limits = aiRateLimit({
  tiers: {
    free: { requestsPerMinute: 20, tokensPerMinute: 40_000, maxConcurrent: 2 },
    pro: { requestsPerMinute: 600, tokensPerMinute: 2_000_000, maxConcurrent: 20, burst: 100 },
  },
  defaultTier: 'free',
  redis, // global limits across processes; per-process (limit / instances) while Redis is down
  instances: 3,
});
const modelLimits = modelRateLimitPolicy({
  models: { 'gpt-4o': { requestsPerMinute: 500, tokensPerMinute: 30_000, maxConcurrent: 50 } },
  maxQueueWaitMs: 10_000,
  redis, // the provider's limits hold for all processes together; limit / instances while Redis is down
  instances: 3,
});

const app = new Hono();
app.use('/v1/*', aiContext(), limits);
app.post('/v1/chat/completions', aiHandler(callProvider, [modelLimits]));
app.get('/readyz', (c) => c.json({ ratelimit: limits.state() })); // { mode: 'redis' | 'local-fallback' | 'local', degraded }

declare function callProvider(
  ctx: import('../../src/index.ts').CallContext,
): Promise<import('../../src/index.ts').AiResult>;

export { app };
