import { Hono } from 'hono';
import { aiBudget, aiCache, aiContext, aiHandler } from '../../src/hono/index.ts';
import { createRedisConnection } from '../../src/index.ts';

const redis = createRedisConnection({ url: 'redis://127.0.0.1:6379' });
const budgets = aiBudget({
  tiers: {
    free: { budgetUsd: 1, period: 'day' },
    pro: { budgetUsd: 500, period: 'month' },
  },
  tenants: { 'team-research': { budgetUsd: 2000 } }, // replaces its tier's budget, same period
  defaultTier: 'free',
  alertAt: 0.8, // past 80%: `x-alchemist-budget-remaining` on answers, an event on the span
  redis, // one spend per tenant across processes; counted per process while Redis is down
});

const app = new Hono();
// Inside the cache: a hit costs nothing and still answers over budget.
app.use('/v1/*', aiContext(), aiCache(), budgets);
app.post('/v1/chat/completions', aiHandler(callProvider));
app.get('/budgets', async (c) => c.json(await budgets.report())); // spend per tenant seen this period

declare function callProvider(
  ctx: import('../../src/index.ts').CallContext,
): Promise<import('../../src/index.ts').AiResult>;

export { app };
