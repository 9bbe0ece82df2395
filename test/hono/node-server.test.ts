import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { type AlchemistEnv, aiContext } from '../../src/hono/context.ts';
import { requestHeader } from '../../src/hono/headers.ts';

let server: ServerType | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** Serve `app` on loopback with @hono/node-server, as the gateway does. */
async function listen(app: { fetch: Hono['fetch'] }): Promise<number> {
  return new Promise((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
      resolve(info.port),
    );
  });
}

/** A raw HTTP request, so repeated headers reach the server as sent. */
function send(
  port: number,
  rawHeaders: string[],
  body?: string,
): { done: Promise<string>; abort: () => void } {
  // An array of raw headers gets no defaults: Host and the body's length are ours to send.
  const headers = [
    'host',
    `127.0.0.1:${port}`,
    'content-length',
    String(Buffer.byteLength(body ?? '')),
    ...rawHeaders,
  ];
  const req = httpRequest({ host: '127.0.0.1', port, path: '/', method: 'POST', headers });
  const done = new Promise<string>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
  });
  req.end(body);
  return { done, abort: () => req.destroy() };
}

describe('requestHeader', () => {
  const app = new Hono();
  app.post('/', (c) =>
    c.json({
      key: requestHeader(c, 'x-api-key') ?? null,
      authorization: requestHeader(c, 'authorization') ?? null,
      missing: requestHeader(c, 'x-missing') ?? null,
      viaHono: c.req.header('x-api-key') ?? null,
    }),
  );

  it("reads Node's parsed headers on @hono/node-server, as Node joins repeats", async () => {
    const port = await listen(app);
    const headers = [
      'X-Api-Key',
      'a',
      'x-api-key',
      'b',
      'Authorization',
      'Bearer one',
      'authorization',
      'Bearer two',
    ];
    const answer = JSON.parse(await send(port, headers).done);
    expect(answer).toEqual({
      key: 'a, b',
      // Node keeps the first of a single-valued header.
      authorization: 'Bearer one',
      missing: null,
      viaHono: 'a, b',
    });
  });

  it('falls back to c.req.header() off Node (app.request)', async () => {
    const response = await app.request('/', { method: 'POST', headers: { 'x-api-key': 'k' } });
    expect(await response.json()).toEqual({ key: 'k', authorization: null, missing: null, viaHono: 'k' });
  });
});

describe('the call context signal on @hono/node-server', () => {
  /** Serve `handler` behind aiContext(), start a request, and abort it once the handler has begun. */
  async function abortMidRequest(
    handler: (c: Context<AlchemistEnv>, entered: () => void) => Promise<Response>,
  ) {
    const inHandler = Promise.withResolvers<void>();
    const app = new Hono<AlchemistEnv>();
    app.use('/', aiContext());
    app.post('/', (c) => handler(c, inHandler.resolve));
    const call = send(await listen(app), ['content-type', 'application/json'], '{"model":"m"}');
    call.done.catch(() => {});
    await inHandler.promise;
    call.abort();
  }

  it('is made on first read and still aborts when the client goes away', async () => {
    const sawAbort = Promise.withResolvers<void>();
    await abortMidRequest(async (c, entered) => {
      c.get('alchemist').signal.addEventListener('abort', () => sawAbort.resolve(), { once: true });
      entered();
      await sawAbort.promise;
      return c.body(null, 204);
    });
    await sawAbort.promise;
  });

  it('reads as an already aborted signal when first read after the client left', async () => {
    const aborted = Promise.withResolvers<boolean>();
    await abortMidRequest(async (c, entered) => {
      entered();
      // Give the client a moment to leave and node-server's close handler a turn to see it.
      await new Promise((resolve) => setTimeout(resolve, 100));
      aborted.resolve(c.get('alchemist').signal.aborted);
      return c.body(null, 204);
    });
    expect(await aborted.promise).toBe(true);
  });
});
