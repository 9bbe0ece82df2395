import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import type { AiResult } from '../../src/core/result.ts';
import { streamResult } from '../../src/core/result.ts';
import { responseFromResult, setResult } from '../../src/hono/result.ts';

/** An iterable that counts the iterators asked of it and whether any was ended early. */
function countedChunks(chunks: unknown[]) {
  const seen = { iterators: 0, returned: 0 };
  const iterable: AsyncIterable<unknown> = {
    [Symbol.asyncIterator]() {
      seen.iterators++;
      let index = 0;
      return {
        next: async () =>
          index < chunks.length ? { done: false, value: chunks[index++] } : { done: true, value: undefined },
        return: async () => {
          seen.returned++;
          return { done: true, value: undefined };
        },
      };
    },
  };
  return { iterable, seen };
}

describe('setResult', () => {
  it('adds headers layer after layer; a stream is iterated once, by the response that is read', async () => {
    const { iterable, seen } = countedChunks([{ n: 1 }, { n: 2 }]);
    const result: AiResult = streamResult(iterable, 200, { 'x-source': 'upstream' });
    const app = new Hono();
    app.get('/', (c) => {
      setResult(c, result);
      // Two outer layers add their headers to the same result (re-rendering it each time).
      setResult(c, result, { 'cache-status': 'alchemist-perf; fwd=miss' });
      return c.res;
    });
    const response = await app.request('/');
    expect(response.headers.get('cache-status')).toBe('alchemist-perf; fwd=miss');
    expect(response.headers.get('x-source')).toBe('upstream');
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(await response.text()).toBe('data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n');
    expect(seen).toEqual({ iterators: 1, returned: 0 });
  });

  it('keeps the rendered JSON text when only headers are added', async () => {
    const body = { choices: [{ message: { content: 'hi' } }] };
    const app = new Hono();
    app.get('/', (c) => {
      const result: AiResult = { kind: 'json', status: 201, body };
      setResult(c, result);
      setResult(c, result, { ratelimit: '"default";r=9;t=60' });
      return c.res;
    });
    const response = await app.request('/');
    expect(response.status).toBe(201);
    expect(response.headers.get('ratelimit')).toBe('"default";r=9;t=60');
    expect(await response.json()).toEqual(body);
  });

  it('ends the source when the reader cancels before reading anything', async () => {
    const { iterable, seen } = countedChunks([{ n: 1 }]);
    const response = responseFromResult(streamResult(iterable));
    await response.body?.cancel();
    expect(seen).toEqual({ iterators: 1, returned: 1 });
  });
});
