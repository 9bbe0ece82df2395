import type { IncomingHttpHeaders } from 'node:http';
import type { Context } from 'hono';

/** What @hono/node-server passes as `c.env`: the Node request behind the lightweight `Request`. */
interface NodeBindings {
  incoming?: { headers?: IncomingHttpHeaders };
}

/**
 * A request header by lower-case name. On @hono/node-server it is read from Node's own parsed headers:
 * `c.req.header()` first builds a WHATWG `Headers` from every raw header, validating each one (about
 * 1.5% of a cache hit's CPU in our profiles). Elsewhere (Bun, Deno, `app.request()` in tests)
 * it is `c.req.header()`. Repeated headers read as Node joins them (comma-separated; for
 * `authorization`, `content-length` and the other single-valued ones, the first).
 */
export function requestHeader(c: Context, name: string): string | undefined {
  const headers = (c.env as NodeBindings | undefined)?.incoming?.headers;
  if (headers === undefined) return c.req.header(name);
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}
