import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { Pool } from 'undici';
import { listen, type Running } from './listen.ts';

/**
 * The "standard" system and the overhead baselines: the Hono proxy a team writes by hand. It parses
 * the request (any router must read `model`), forwards it, and passes the provider's answer through
 * unchanged (JSON or SSE), with no cache, limits, breakers or telemetry.
 *
 * `client: 'undici'` uses the same HTTP client as the gateway (an undici keep-alive `Pool` per
 * origin, as in src/gateway/providers/http.ts); `client: 'fetch'` uses the global fetch, as most
 * hand-written proxies do.
 */
export function startProxy(upstream: string, client: 'undici' | 'fetch'): Promise<Running> {
  const target = `${upstream.replace(/\/+$/, '')}/v1/chat/completions`;
  const url = new URL(target);
  // The gateway's pool settings: 64 keep-alive connections, no pipelining.
  const pool = new Pool(url.origin, { connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });
  const app = new Hono();

  app.post('/v1/chat/completions', async (c) => {
    const body = (await c.req.json()) as Record<string, unknown>;
    if (typeof body.model !== 'string') return c.json({ error: { message: 'model is required' } }, 400);
    const headers = { 'content-type': 'application/json', authorization: 'Bearer bench-provider-key' };
    if (client === 'fetch') {
      const answer = await fetch(target, { method: 'POST', headers, body: JSON.stringify(body) });
      return new Response(answer.body, {
        status: answer.status,
        headers: { 'content-type': answer.headers.get('content-type') ?? 'application/json' },
      });
    }
    const answer = await pool.request({
      path: url.pathname,
      method: 'POST',
      headers,
      body: JSON.stringify(body),
    });
    const type = String(answer.headers['content-type'] ?? 'application/json');
    if (type.includes('text/event-stream')) {
      return new Response(Readable.toWeb(answer.body) as ReadableStream<Uint8Array>, {
        status: answer.statusCode,
        headers: { 'content-type': type, 'cache-control': 'no-cache' },
      });
    }
    return new Response(await answer.body.arrayBuffer(), {
      status: answer.statusCode,
      headers: { 'content-type': type },
    });
  });

  return listen(app.fetch).then((running) => ({
    url: running.url,
    close: async () => {
      await running.close();
      await pool.close();
    },
  }));
}
