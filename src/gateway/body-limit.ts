import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { PayloadTooLargeError } from '../core/errors.ts';
import { requestHeader } from '../hono/headers.ts';

/**
 * 413 for bodies over `maxBytes`. A request that declares its length is judged by `Content-Length`
 * alone (Node's HTTP parser guarantees the body matches it), which keeps @hono/node-server's fast body
 * path: Hono's `bodyLimit()` reads `c.req.raw.body`, turning the request into a web-stream Request and
 * costing ~350 µs of CPU per request in our benchmark. Chunked bodies (no length) still go through
 * `bodyLimit()`, which counts bytes as they stream in.
 */
export function requestBodyLimit(maxBytes: number): MiddlewareHandler {
  const counting = bodyLimit({
    maxSize: maxBytes,
    onError: () => new PayloadTooLargeError(maxBytes).getResponse(),
  });
  return async function requestBodyLimit(c, next) {
    const declared = requestHeader(c, 'content-length');
    if (declared === undefined) return counting(c, next);
    if (Number(declared) > maxBytes) throw new PayloadTooLargeError(maxBytes);
    return next();
  };
}
