import type { Context } from 'hono';

/** Parsed JSON bodies by request: Hono caches a body's text, not its parse. */
const parsedBodies = new WeakMap<Request, Promise<unknown>>();

/**
 * The request body parsed as JSON, once per request however many layers ask (the gateway's guard
 * and `aiContext()` both read it). Callers get the same value: read it, never mutate it. A body that
 * is not JSON rejects every caller alike.
 *
 * @example
 * const body = await requestJson(c);
 */
export function requestJson(c: Context): Promise<unknown> {
  const raw = c.req.raw;
  let parsed = parsedBodies.get(raw);
  if (parsed === undefined) {
    parsed = c.req.json<unknown>();
    parsedBodies.set(raw, parsed);
  }
  return parsed;
}
