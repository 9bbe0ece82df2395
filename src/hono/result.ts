import type { Context } from 'hono';
import { toErrorResponse, UpstreamError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import { encodeSseData, parseSse, SSE_DONE } from '../core/sse.ts';
import type { SseFraming } from '../wire/types.ts';

/** Headers that describe one body's bytes and must not follow a result into a new body. */
const BODY_HEADERS = new Set(['content-length', 'content-type', 'content-encoding', 'transfer-encoding']);

function headersOf(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!BODY_HEADERS.has(name)) headers[name] = value;
  });
  return headers;
}

/**
 * The AiResult of a response a handler of your own produced: JSON (or text), or an SSE stream of JSON
 * chunks that must end with `data: [DONE]`. Only for handlers outside the pipeline: results the
 * pipeline produced are rendered once and never read back.
 */
export async function resultFromResponse(response: Response): Promise<AiResult> {
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
 * tell it is incomplete. An API with named events (`sse` framing in its wire format: Responses,
 * Anthropic Messages) gets `event: <type>` on every event, no `[DONE]`, and its own `event: error`.
 * A client that disconnects stops the source iterator.
 */
export function responseFromResult(
  result: AiResult,
  extraHeaders: Record<string, string> = {},
  framing?: SseFraming,
): Response {
  // A plain record, not a Headers object: @hono/node-server writes it without WHATWG header validation.
  const headers: Record<string, string> = {};
  for (const source of [result.headers, extraHeaders]) {
    if (source) for (const name in source) headers[name.toLowerCase()] = source[name]!;
  }
  if (result.kind === 'json') {
    const isText = typeof result.body === 'string';
    headers['content-type'] = isText ? 'text/plain; charset=utf-8' : 'application/json';
    const body = isText ? (result.body as string) : serialize(result.body);
    return new Response(body, { status: result.status, headers });
  }
  headers['content-type'] = 'text/event-stream';
  headers['cache-control'] = 'no-cache';
  return new Response(sseBody(result.chunks, framing), { status: result.status, headers });
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

/** One named SSE event (`event:` line first: the Anthropic SDK drops events without one). */
function encodeNamedEvent(name: string | undefined, data: unknown): Uint8Array {
  const text = typeof data === 'string' ? data : JSON.stringify(data);
  return textEncoder.encode(name ? `event: ${name}\ndata: ${text}\n\n` : `data: ${text}\n\n`);
}

const textEncoder = new TextEncoder();

function sseBody(chunks: AsyncIterable<unknown>, framing?: SseFraming): ReadableStream<Uint8Array> {
  // Taken on the first read: a response nobody reads never starts an iterator of its own.
  let iterator: AsyncIterator<unknown> | undefined;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          iterator ??= chunks[Symbol.asyncIterator]();
          const next = await iterator.next();
          if (next.done) {
            if (!framing) controller.enqueue(encodeSseData(SSE_DONE));
            controller.close();
          } else if (framing) {
            controller.enqueue(encodeNamedEvent(framing.eventName(next.value), next.value));
          } else {
            controller.enqueue(encodeSseData(next.value));
          }
        } catch (error) {
          const { body } = toErrorResponse(error);
          controller.enqueue(
            framing ? encodeNamedEvent('error', framing.errorEvent(body)) : encodeSseData(body),
          );
          controller.close();
        }
      },
      async cancel() {
        // The reader went away: end the source, even if it never started (its `return()` cleans up).
        await (iterator ?? chunks[Symbol.asyncIterator]()).return?.();
      },
      // Pull only when the client reads: chunks are produced as the client takes them.
    },
    { highWaterMark: 0 },
  );
}

/** Answer with a result: replaces `c.res`, dropping the old response's headers (they described it). */
export function setResult(
  c: Context,
  result: AiResult,
  extraHeaders?: Record<string, string>,
  framing?: SseFraming,
): void {
  const response = responseFromResult(result, extraHeaders, framing);
  // Unset first: given a new response while one is set, Hono copies the old one's headers into it.
  c.res = undefined;
  c.res = response;
}
