import { Hono } from 'hono';
import { listen, type Running } from './listen.ts';

/**
 * The cache-hit baseline: a bare Hono handler that reads the request and returns the same JSON the
 * pack returns on a hit (the harness captures it from the pack), serialised per request like a hit is.
 */
export function startFixed(body: string): Promise<Running> {
  const answer: unknown = JSON.parse(body);
  const app = new Hono();
  app.post('/v1/chat/completions', async (c) => {
    await c.req.json();
    return c.json(answer);
  });
  return listen(app.fetch);
}
