import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonResult } from '../../src/core/result.ts';
import { aiContext } from '../../src/hono/context.ts';
import { aiHandler } from '../../src/hono/handler.ts';

// No tracer provider registered (the OTel API's no-op): what a gateway without a trace exporter, or an
// app without the SDK, runs. A propagator alone makes the no-op "span" the caller's own context.
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  context.disable();
  propagation.disable();
});

describe('the traceparent response header without a tracer', () => {
  it("is absent, rather than echoing the caller's own span as ours", async () => {
    const app = new Hono();
    app.use('/v1/*', aiContext());
    app.post(
      '/v1/chat/completions',
      aiHandler(async (ctx) => jsonResult({ model: ctx.model })),
    );
    const response = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      body: JSON.stringify({ model: 'gpt-4o', messages: [] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('traceparent')).toBeNull();
  });
});
