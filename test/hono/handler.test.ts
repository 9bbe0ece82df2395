import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { aiCachePolicy } from '../../src/cache/policy.ts';
import { jsonResult } from '../../src/core/result.ts';
import {
  aiCache,
  aiContext,
  aiHandler,
  aiRateLimit,
  cacheHeaders,
  rateLimitHeaders,
} from '../../src/hono/index.ts';
import { tierRateLimitPolicy } from '../../src/ratelimit/index.ts';

const TIERS = { free: { requestsPerMinute: 2 } };
const answer = async () => jsonResult({ choices: [{ message: { role: 'assistant', content: 'ok' } }] });

/** The limiter and the cache composed in one handler, as the gateway does. */
function onePass() {
  const app = new Hono();
  app.use('/v1/*', aiContext({ defaultTier: 'free' }));
  app.post(
    '/v1/chat/completions',
    aiHandler(
      answer,
      [tierRateLimitPolicy({ tiers: TIERS, defaultTier: 'free' }), aiCachePolicy({ ttl: 60 })],
      {
        headers: (ctx) => ({ ...rateLimitHeaders(ctx), ...cacheHeaders(ctx) }),
      },
    ),
  );
  return app;
}

/** The same policies as a middleware layer each. */
function layered() {
  const app = new Hono();
  app.use('/v1/*', aiContext({ defaultTier: 'free' }));
  app.use('/v1/*', aiRateLimit({ tiers: TIERS, defaultTier: 'free' }));
  app.use('/v1/*', aiCache({ ttl: 60 }));
  app.post('/v1/chat/completions', aiHandler(answer));
  return app;
}

const post = (app: Hono) =>
  app.request('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-handler' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'one pass' }] }),
  });

/** Status and the headers the policies decide, with the volatile parts (times, seconds left) masked. */
async function shape(response: Response) {
  await response.text();
  const mask = (value: string | null) => value?.replace(/\d+(\.\d+)?/g, 'N') ?? null;
  return {
    status: response.status,
    cacheStatus: mask(response.headers.get('cache-status')),
    serverTiming: mask(response.headers.get('server-timing')),
    policy: mask(response.headers.get('ratelimit-policy')),
    state: mask(response.headers.get('ratelimit')),
    retryAfter: response.headers.get('retry-after') === null ? null : 'set',
  };
}

describe('aiHandler with policies and a headers option', () => {
  it('answers (miss, hit) and rejects (429) with the same headers as the middleware layers', async () => {
    const one = onePass();
    const layers = layered();
    const seen: unknown[][] = [[], []];
    for (let i = 0; i < 3; i++) {
      seen[0]?.push(await shape(await post(one)));
      seen[1]?.push(await shape(await post(layers)));
    }
    expect(seen[0]).toEqual(seen[1]);
    const [miss, hit, rejected] = seen[0] as Awaited<ReturnType<typeof shape>>[];
    expect(miss).toMatchObject({ status: 200, cacheStatus: expect.stringContaining('fwd=miss') });
    expect(miss?.policy).toBeTruthy();
    expect(hit).toMatchObject({ status: 200, cacheStatus: expect.stringContaining('hit') });
    expect(rejected).toMatchObject({ status: 429, retryAfter: 'set' });
    expect(rejected?.state).toBeTruthy();
  });
});
