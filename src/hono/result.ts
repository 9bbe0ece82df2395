import type { Context } from 'hono';
import { toErrorResponse, UpstreamError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { encodeSseData, parseSse, SSE_DONE } from '../core/sse.ts';

/** Headers that describe one body's bytes and must not follow a result into a new body. */
const BODY_HEADERS = new Set(['content-length', 'content-type', 'content-encoding', 'transfer-encoding']);

/** Results we turned into responses, so the next layer out reuses them instead of re-parsing bodies. */
const knownResults = new WeakMap<Response, AiResult>();

function headersOf(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!BODY_HEADERS.has(name)) headers[name] = value;
  });
  return headers;
}

/**
 * The AiResult behind a Hono response: the one a policy produced, or one parsed from the body
 * (JSON, or an SSE stream of JSON chunks that must end with `data: [DONE]`).
 */
export async function resultFromResponse(response: Response): Promise<AiResult> {
  const known = knownResults.get(response);
  if (known) return known;
  const headers = headersOf(response);
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('text/event-stream') && response.body) {
    return { kind: 'stream', status: response.status, headers, chunks: sseChunks(response.body) };
  }
  const text = await response.text();
  let body: unknown = text;
  if (type.includes('json') || /^\s*[[{]/.test(text)) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { kind: 'json', status: response.status, headers, body };
}

async function* sseChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  for await (const event of parseSse(body)) {
    if (event.data === SSE_DONE) return;
    try {
      yield JSON.parse(event.data);
    } catch {
      yield event.data;
    }
  }
  throw new UpstreamError('Stream ended before [DONE]', 0);
}

/**
 * A response for a result. Streams are written as SSE as chunks arrive and end with `data: [DONE]`;
 * a stream that fails midway ends with an OpenAI-style error event and no `[DONE]`, so clients can
 * tell it is incomplete. A client that disconnects stops the source iterator.
 */
export function responseFromResult(result: AiResult, extraHeaders: Record<string, string> = {}): Response {
  return render(result, extraHeaders);
}

/** JSON text of the responses we rendered, so adding headers re-renders without serialising again. */
const renderedText = new WeakMap<Response, string>();

function render(result: AiResult, extraHeaders: Record<string, string>, text?: string): Response {
  // A plain record, not a Headers object: @hono/node-server writes it without WHATWG header validation.
  const headers: Record<string, string> = {};
  for (const source of [result.headers, extraHeaders]) {
    if (source) for (const name in source) headers[name.toLowerCase()] = source[name]!;
  }
  let response: Response;
  if (result.kind === 'json') {
    const isText = typeof result.body === 'string';
    headers['content-type'] = isText ? 'text/plain; charset=utf-8' : 'application/json';
    const body = text ?? (isText ? (result.body as string) : serialize(result.body));
    response = new Response(body, { status: result.status, headers });
    renderedText.set(response, body);
  } else {
    headers['content-type'] = 'text/event-stream';
    headers['cache-control'] = 'no-cache';
    response = new Response(sseBody(result.chunks), { status: result.status, headers });
  }
  // Remember the result with the extra headers, so an outer layer that re-renders it keeps them.
  const extra = Object.keys(extraHeaders).length > 0;
  knownResults.set(response, extra ? { ...result, headers: { ...result.headers, ...extraHeaders } } : result);
  return response;
}

/** JSON text of frozen bodies (cache entries are frozen and served many times): serialised once. */
const serializedBodies = new WeakMap<object, string>();

function serialize(body: unknown): string {
  if (typeof body !== 'object' || body === null || !Object.isFrozen(body)) return JSON.stringify(body);
  let text = serializedBodies.get(body);
  if (text === undefined) {
    text = JSON.stringify(body);
    serializedBodies.set(body, text);
  }
  return text;
}

function sseBody(chunks: AsyncIterable<unknown>): ReadableStream<Uint8Array> {
  // Taken on the first read: a response replaced before anyone reads it (an outer layer re-rendering
  // the result with its headers) never starts an iterator of its own.
  let iterator: AsyncIterator<unknown> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          iterator ??= chunks[Symbol.asyncIterator]();
          const next = await iterator.next();
          if (next.done) {
            controller.enqueue(encodeSseData(SSE_DONE));
            controller.close();
          } else {
            controller.enqueue(encodeSseData(next.value));
          }
        } catch (error) {
          controller.enqueue(encodeSseData(toErrorResponse(error).body));
          controller.close();
        }
      },
      async cancel() {
        // The reader went away: end the source, even if it never started (its `return()` cleans up).
        await (iterator ?? chunks[Symbol.asyncIterator]()).return?.();
      },
      // Pull only when the client reads: an unread response (replaced by an outer layer) must not
      // consume chunks from the shared iterator.
    },
    { highWaterMark: 0 },
  );
}

/** Replace `c.res` with a result's response, dropping the old response's headers (they described it). */
export function setResult(c: Context, result: AiResult, extraHeaders?: Record<string, string>): void {
  const current = c.res;
  let response: Response;
  if (knownResults.get(current) === result) {
    // The response already renders this result (an inner layer made it): only headers to add. Render it
    // again with them rather than `current.headers.set()`: reading `.headers` turns @hono/node-server's
    // lightweight Response into a full WHATWG one (Headers validation per header, per layer).
    if (!extraHeaders || Object.keys(extraHeaders).length === 0) return;
    response = render(result, extraHeaders, renderedText.get(current));
  } else {
    response = render(result, extraHeaders ?? {});
  }
  // Unset first: given a new response while one is set, Hono copies the old one's headers into it.
  c.res = undefined;
  c.res = response;
}
