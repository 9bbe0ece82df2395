import { Hono, type MiddlewareHandler } from 'hono';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/core/compose.ts';
import { RateLimitedError } from '../../src/core/errors.ts';
import type { AiResult } from '../../src/core/result.ts';
import { jsonResult, observeStream, streamResult } from '../../src/core/result.ts';
import { aiContext } from '../../src/hono/context.ts';
import { aiHandler } from '../../src/hono/handler.ts';
import { policyMiddleware } from '../../src/hono/policy.ts';
import { openAiChat } from '../../src/wire/openai-chat.ts';
import type { WireFormat } from '../../src/wire/types.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

const telemetry = useTestTelemetry();
beforeEach(() => telemetry.reset());

const post = (app: Hono, body: unknown = { model: 'gpt-4o' }) =>
  app.request('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** A policy that logs when it runs, around the rest. */
function logged(name: string, log: string[]): Policy<AiResult> {
  return {
    name,
    async execute(ctx, next) {
      log.push(`${name}>`);
      const result = await next(ctx);
      log.push(`<${name}`);
      return result;
    },
  };
}

describe('one request pipeline in Hono', () => {
  it('runs app.use() policies and the handler’s own in one pass, and renders the answer once', async () => {
    const log: string[] = [];
    let serialised = 0;
    const body = {
      toJSON() {
        serialised++;
        return { ok: true };
      },
    };
    const app = new Hono();
    app.use(
      '/v1/*',
      aiContext(),
      policyMiddleware('a', logged('a', log)),
      policyMiddleware('b', logged('b', log)),
    );
    app.post(
      '/v1/chat/completions',
      aiHandler(async () => {
        log.push('call');
        return jsonResult(body);
      }, [logged('c', log)]),
    );
    const response = await post(app);
    expect(await response.json()).toEqual({ ok: true });
    expect(log).toEqual(['a>', 'b>', 'c>', 'call', '<c', '<b', '<a']);
    expect(serialised).toBe(1);
    expect(response.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('in front of a handler of your own, runs the pipeline around it and reads its response once', async () => {
    const log: string[] = [];
    const app = new Hono();
    app.use(
      '/v1/*',
      aiContext(),
      policyMiddleware('a', logged('a', log)),
      policyMiddleware('b', logged('b', log)),
    );
    app.post('/v1/chat/completions', (c) => {
      log.push('handler');
      return c.json({ answered: c.get('alchemist' as never) !== undefined });
    });
    const success = { 'alchemist.outcome': 'success' };
    const before = await telemetry.histogramCount('alchemist.request.duration', success);
    const response = await post(app);
    expect(await response.json()).toEqual({ answered: true });
    expect(log).toEqual(['a>', 'b>', 'handler', '<b', '<a']);
    expect(await telemetry.histogramCount('alchemist.request.duration', success)).toBe(before + 1);
  });

  it('runs a policy behind middleware of your own on its own, still once per request', async () => {
    const log: string[] = [];
    const yours: MiddlewareHandler = async (_c, next) => {
      log.push('yours');
      await next();
    };
    const app = new Hono();
    app.use(
      '/v1/*',
      aiContext(),
      policyMiddleware('a', logged('a', log)),
      yours,
      policyMiddleware('b', logged('b', log)),
    );
    app.post(
      '/v1/chat/completions',
      aiHandler(async () => jsonResult({ ok: 1 }), [logged('c', log)]),
    );
    const response = await post(app);
    expect(await response.json()).toEqual({ ok: 1 });
    expect(log).toEqual(['a>', 'yours', 'b>', 'c>', '<c', '<b', '<a']);
  });

  it('ends the request span of a plain handler’s SSE answer when its body ends, not before', async () => {
    const app = new Hono();
    app.use('/v1/*', aiContext());
    app.post('/v1/chat/completions', () => {
      const encoder = new TextEncoder();
      return new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(encoder.encode('data: {"n":1}\n\n'));
            controller.enqueue(encoder.encode('data: [DONE]\n\n'));
            controller.close();
          },
        }),
        { headers: { 'content-type': 'text/event-stream' } },
      );
    });
    const response = await post(app);
    expect(response.headers.get('traceparent')).toMatch(/^00-/);
    expect(telemetry.spans().filter((span) => span.name === 'POST /v1/chat/completions')).toHaveLength(0);
    expect(await response.text()).toBe('data: {"n":1}\n\ndata: [DONE]\n\n');
    expect(telemetry.spans().filter((span) => span.name === 'POST /v1/chat/completions')).toHaveLength(1);
  });
});

describe('a stream’s one observer', () => {
  it('folds every observeStream of an unread stream into one loop over the source', async () => {
    let iterators = 0;
    const source: AsyncIterable<unknown> = {
      [Symbol.asyncIterator]() {
        iterators++;
        let n = 0;
        return { next: async () => (n < 2 ? { done: false, value: n++ } : { done: true, value: undefined }) };
      },
    };
    const seen: string[] = [];
    const first = observeStream(
      source,
      (chunk) => seen.push(`inner ${chunk}`),
      (end) => seen.push(`inner end ${end.complete} ${end.chunks}`),
    );
    const second = observeStream(
      first,
      (chunk) => seen.push(`outer ${chunk}`),
      (end) => seen.push(`outer end ${end.complete}`),
    );
    expect(second).toBe(first);
    const chunks: unknown[] = [];
    for await (const chunk of second) chunks.push(chunk);
    expect(chunks).toEqual([0, 1]);
    expect(iterators).toBe(1);
    expect(seen).toEqual(['inner 0', 'outer 0', 'inner 1', 'outer 1', 'inner end true 2', 'outer end true']);
  });

  it('tells every observer once when the reader stops early, and wraps a stream already being read', async () => {
    const ends: boolean[] = [];
    const observed = observeStream(
      streamResult(
        (async function* () {
          yield 1;
          yield 2;
        })(),
      ).chunks,
      undefined,
      (end) => ends.push(end.complete),
    );
    const iterator = observed[Symbol.asyncIterator]();
    await iterator.next();
    const late = observeStream(observed, undefined, (end) => ends.push(end.complete));
    expect(late).not.toBe(observed);
    await iterator.return?.();
    expect(ends).toEqual([false]);
  });
});

describe('answers in the route’s own API shape', () => {
  // A wire format with named SSE events and its own error body, as Anthropic Messages has.
  const named: WireFormat = {
    ...openAiChat,
    api: 'anthropic.messages',
    errorBody: (body) => ({ type: 'error', error: { type: body.error.type, message: body.error.message } }),
    sse: {
      eventName: (chunk) => (chunk as { type?: string }).type,
      errorEvent: (body) => ({
        type: 'error',
        error: { type: body.error.type, message: body.error.message },
      }),
    },
  };

  function appFor(call: () => Promise<AiResult>, identify?: () => undefined) {
    const app = new Hono();
    app.use('/v1/*', aiContext({ wire: named, ...(identify ? { identify } : {}) }));
    app.post('/v1/chat/completions', aiHandler(call));
    return app;
  }

  it('writes every stream event with its name, no [DONE], and a failure as its own error event', async () => {
    const app = appFor(async () =>
      streamResult(
        (async function* () {
          yield { type: 'message_start' };
          yield { type: 'message_stop' };
        })(),
      ),
    );
    expect(await (await post(app)).text()).toBe(
      'event: message_start\ndata: {"type":"message_start"}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n',
    );
    const failing = appFor(async () =>
      streamResult(
        (async function* () {
          yield { type: 'message_start' };
          throw new RateLimitedError('slow down', 'model');
        })(),
      ),
    );
    expect(await (await post(failing)).text()).toBe(
      'event: message_start\ndata: {"type":"message_start"}\n\n' +
        'event: error\ndata: {"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}\n\n',
    );
  });

  it('renders the pack’s errors in that shape, before and inside the pipeline', async () => {
    const limited = await post(appFor(() => Promise.reject(new RateLimitedError('slow down', 'tier'))));
    expect(limited.status).toBe(429);
    expect(await limited.json()).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'slow down' },
    });
    const unknownKey = await post(
      appFor(
        async () => jsonResult({}),
        () => undefined,
      ),
    );
    expect(unknownKey.status).toBe(401);
    expect(((await unknownKey.json()) as { type: string }).type).toBe('error');
  });
});
