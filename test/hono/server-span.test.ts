import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BadRequestError, RateLimitedError, UpstreamError } from '../../src/core/errors.ts';
import { jsonResult } from '../../src/core/result.ts';
import { aiContext } from '../../src/hono/context.ts';
import { aiHandler } from '../../src/hono/handler.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

const telemetry = useTestTelemetry();
// What an app's NodeSDK registers: a context manager and the W3C propagator.
const contextManager = new AsyncLocalStorageContextManager();
beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  context.disable();
  propagation.disable();
});
beforeEach(() => telemetry.reset());

const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

function app(
  answer: (model: string) => Promise<ReturnType<typeof jsonResult>> = async (model) => jsonResult({ model }),
) {
  const hono = new Hono();
  hono.use(
    '/v1/*',
    aiContext({
      identify: (c) =>
        c.req.header('authorization') === 'Bearer bad' ? undefined : { tenant: 't', tier: 'free' },
      validate: (request) => {
        if (!Array.isArray(request.messages)) throw new BadRequestError("'messages' must be an array");
      },
    }),
  );
  hono.post(
    '/v1/chat/completions',
    aiHandler((ctx) => answer(ctx.model)),
  );
  return hono;
}

const send = (
  hono: Hono,
  headers: Record<string, string> = {},
  body: unknown = { model: 'gpt-4o', messages: [] },
) =>
  hono.request('http://gateway.internal:8787/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'OpenAI/JS 7.0', ...headers },
    body: JSON.stringify(body),
  });

const requestSpan = () => telemetry.spans().find((span) => span.name === 'POST /v1/chat/completions');
const httpDuration = (match: Record<string, string | number> = {}) =>
  telemetry.histogramCount('http.server.request.duration', match);

// Issue 15: a request with `traceparent` and `tracestate` produced a new root trace and lost tracestate.
describe('the request span continues the caller trace (W3C Trace Context)', () => {
  it('is a SERVER child of the caller span, keeping tracestate', async () => {
    await send(app(), {
      traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
      tracestate: 'vendor=opaque,other=1',
    });
    const span = requestSpan()!;
    expect(span.kind).toBe(SpanKind.SERVER);
    expect(span.spanContext().traceId).toBe(CALLER_TRACE);
    expect(span.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(span.spanContext().traceState?.serialize()).toBe('vendor=opaque,other=1');
  });

  it('answers with its own traceparent in the caller trace', async () => {
    const response = await send(app(), { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` });
    const span = requestSpan()!;
    expect(response.headers.get('traceparent')).toBe(`00-${CALLER_TRACE}-${span.spanContext().spanId}-01`);
  });

  it('is a root SERVER span without traceparent', async () => {
    await send(app());
    expect(requestSpan()!.parentSpanContext).toBeUndefined();
  });

  it("nests as INTERNAL in an app's own HTTP span, without a second SERVER span or HTTP metric", async () => {
    const hono = app();
    const tracer = trace.getTracer('app-http-instrumentation');
    const before = await httpDuration();
    await tracer.startActiveSpan('POST', { kind: SpanKind.SERVER }, async (outer) => {
      await send(hono, { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` });
      outer.end();
    });
    const span = requestSpan()!;
    const outer = telemetry.spans().find((s) => s.name === 'POST')!;
    expect(span.kind).toBe(SpanKind.INTERNAL);
    expect(span.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect(telemetry.spans().filter((s) => s.kind === SpanKind.SERVER)).toEqual([outer]);
    expect(await httpDuration()).toBe(before);
  });
});

// Issue 15: the SERVER span set ERROR on 4xx, lacked url.path, url.scheme, server.address, server.port
// and user_agent.original; there was no http.server.request.duration; 400/401 had no span and no metric.
describe('the SERVER span and metric follow HTTP server semconv', () => {
  it('carries the required and recommended attributes, and records http.server.request.duration', async () => {
    const before = await httpDuration({ 'http.response.status_code': 200, 'url.scheme': 'http' });
    await send(app());
    expect(requestSpan()!.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/chat/completions',
      'url.path': '/v1/chat/completions',
      'url.scheme': 'http',
      'server.address': 'gateway.internal',
      'server.port': 8787,
      'user_agent.original': 'OpenAI/JS 7.0',
      'http.response.status_code': 200,
    });
    expect(requestSpan()!.status.code).toBe(SpanStatusCode.UNSET);
    expect(
      await httpDuration({
        'http.request.method': 'POST',
        'http.route': '/v1/chat/completions',
        'http.response.status_code': 200,
        'url.scheme': 'http',
      }),
    ).toBe(before + 1);
  });

  it('takes the scheme from X-Forwarded-Proto, but only http or https (it is a metric label)', async () => {
    await send(app(), { 'x-forwarded-proto': 'https' });
    expect(requestSpan()!.attributes['url.scheme']).toBe('https');
    telemetry.reset();
    await send(app(), { 'x-forwarded-proto': 'gopher-{{junk}}' });
    expect(requestSpan()!.attributes['url.scheme']).toBe('http');
  });

  it('leaves the status unset on a 4xx, without error.type', async () => {
    const limited = app(() =>
      Promise.reject(new RateLimitedError('Too many requests', 'tier', { retryAfter: 3 })),
    );
    expect((await send(limited)).status).toBe(429);
    const span = requestSpan()!;
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes['http.response.status_code']).toBe(429);
    expect(span.attributes['error.type']).toBeUndefined();
  });

  it('sets ERROR and error.type on a 5xx, on the span and the metric', async () => {
    const failing = app(() => Promise.reject(new UpstreamError('Upstream answered 500', 500)));
    expect((await send(failing)).status).toBe(502);
    const span = requestSpan()!;
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('500');
    expect(await httpDuration({ 'http.response.status_code': 502, 'error.type': '500' })).toBe(1);
  });

  it('traces and counts a 401 and a 400 answered before the policies', async () => {
    const hono = app();
    const before = await telemetry.histogramCount('alchemist.request.duration', {
      'alchemist.outcome': 'client_error',
    });
    expect((await send(hono, { authorization: 'Bearer bad' })).status).toBe(401);
    expect(requestSpan()!.attributes['http.response.status_code']).toBe(401);
    expect(requestSpan()!.status.code).toBe(SpanStatusCode.UNSET);
    telemetry.reset();
    const invalid = await hono.request('http://gateway.internal:8787/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model":',
    });
    expect(invalid.status).toBe(400);
    expect(requestSpan()!.attributes['http.response.status_code']).toBe(400);
    expect(await httpDuration({ 'http.response.status_code': 401 })).toBe(1);
    expect(await httpDuration({ 'http.response.status_code': 400 })).toBe(1);
    expect(
      await telemetry.histogramCount('alchemist.request.duration', { 'alchemist.outcome': 'client_error' }),
    ).toBe(before + 2);
  });
});

// Issue 15: gen_ai.provider.name was the provider's config key (e.g. "flakyfb").
describe('gen_ai.provider.name', () => {
  it("is the provider's well-known type, with the configured name as alchemist.provider", async () => {
    const hono = new Hono();
    hono.use(
      '/v1/*',
      aiContext({
        resolveProvider: () => 'flakyfb',
        genAiProvider: (name) => (name === 'flakyfb' ? 'openai' : name),
      }),
    );
    hono.post(
      '/v1/chat/completions',
      aiHandler(async (ctx) => jsonResult({ provider: ctx.provider, genAiProvider: ctx.genAiProvider })),
    );
    const before = await telemetry.histogramCount('alchemist.request.duration', {
      'gen_ai.provider.name': 'openai',
    });
    const response = await send(hono);
    expect(await response.json()).toEqual({ provider: 'flakyfb', genAiProvider: 'openai' });
    expect(requestSpan()!.attributes).toMatchObject({
      'gen_ai.provider.name': 'openai',
      'alchemist.provider': 'flakyfb',
    });
    expect(
      await telemetry.histogramCount('alchemist.request.duration', { 'gen_ai.provider.name': 'openai' }),
    ).toBe(before + 1);
  });
});
