/**
 * Server-sent events as used by OpenAI-compatible streams: `data: <json>` events, ending with
 * `data: [DONE]`. https://html.spec.whatwg.org/multipage/server-sent-events.html
 */
const encoder = new TextEncoder();

export const SSE_DONE = '[DONE]';

/** One SSE event's bytes for a chunk (JSON-encoded unless already a string). */
export function encodeSseData(data: unknown): Uint8Array {
  return encoder.encode(`data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);
}

/** A parsed SSE event: its `event:` name (if any) and joined `data:` lines. */
export interface SseEvent {
  readonly event?: string;
  readonly data: string;
}

/** Parse an SSE byte stream into events, tolerating CRLF and events split across reads. */
export async function* parseSse(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let boundary = findBoundary(buffer);
    while (boundary) {
      const event = parseEvent(buffer.slice(0, boundary.index));
      buffer = buffer.slice(boundary.index + boundary.length);
      if (event) yield event;
      boundary = findBoundary(buffer);
    }
  }
  buffer += decoder.decode();
  const last = parseEvent(buffer);
  if (last) yield last;
}

function findBoundary(buffer: string): { index: number; length: number } | undefined {
  const match = /\r?\n\r?\n/.exec(buffer);
  return match ? { index: match.index, length: match[0].length } : undefined;
}

function parseEvent(block: string): SseEvent | undefined {
  let event: string | undefined;
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
  }
  if (data.length === 0) return undefined;
  return event === undefined ? { data: data.join('\n') } : { event, data: data.join('\n') };
}
