import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { requestJson } from '../../src/hono/body.ts';

describe('requestJson', () => {
  it('parses a body once: every layer gets the same value', async () => {
    const seen: unknown[] = [];
    const app = new Hono();
    app.use('*', async (c, next) => {
      seen.push(await requestJson(c));
      await next();
    });
    app.post('/', async (c) => {
      seen.push(await requestJson(c));
      return c.json({ ok: true });
    });
    const response = await app.request('/', { method: 'POST', body: '{"model":"m","n":[1,2]}' });
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toEqual({ model: 'm', n: [1, 2] });
    expect(seen[1]).toBe(seen[0]);
  });

  it('rejects every caller alike when the body is not JSON', async () => {
    const errors: string[] = [];
    const app = new Hono();
    app.use('*', async (c, next) => {
      await requestJson(c).catch((error: Error) => errors.push(error.name));
      await next();
    });
    app.post('/', async (c) => {
      await requestJson(c).catch((error: Error) => errors.push(error.name));
      return c.body(null, 204);
    });
    const response = await app.request('/', { method: 'POST', body: '{not json' });
    expect(response.status).toBe(204);
    expect(errors).toEqual(['SyntaxError', 'SyntaxError']);
  });

  it('keeps requests apart', async () => {
    const app = new Hono();
    app.post('/', async (c) => c.json(await requestJson(c)));
    const responses = await Promise.all([
      app.request('/', { method: 'POST', body: '{"n":1}' }),
      app.request('/', { method: 'POST', body: '{"n":2}' }),
    ]);
    expect(await Promise.all(responses.map((r) => r.json()))).toEqual([{ n: 1 }, { n: 2 }]);
  });
});
