import { SpanKind } from '@opentelemetry/api';
import { Hono, type MiddlewareHandler } from 'hono';
import { beforeEach, describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../src/core/errors.ts';
import { jsonResult, streamResult } from '../../src/core/result.ts';
import { aiContext } from '../../src/hono/context.ts';
import { aiHandler } from '../../src/hono/handler.ts';
import { policyMiddleware } from '../../src/hono/policy.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

const telemetry = useTestTelemetry();
beforeEach(() => telemetry.reset());

const post = (app: Hono, body: unknown, headers: Record<string, string> = {}) =>
  app.request('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

function appWith(...middleware: MiddlewareHandler[]) {
  const app = new Hono();
  app.use('/v1/*', aiContext());
  for (const m of middleware) app.use('/v1/*', m);
  app.post(
    '/v1/chat/completions',
    aiHandler(async (ctx) =>
      ctx.stream
        ? streamResult(
            (async function* () {
              yield { model: ctx.model, choices: [{ delta: { content: 'a' } }] };
              yield {
                model: ctx.model,
                choices: [{ delta: { content: 'b' } }],
                usage: { prompt_tokens: 1, completion_tokens: 2 },
              };
            })(),
          )
        : jsonResult({ model: ctx.model, tenant: ctx.tenant }),
    ),
  );
  return app;
}

describe('aiContext', () => {
  it('rejects bad JSON and a missing model with OpenAI-style 400s', async () => {
    const app = appWith();
    const bad = await post(app, '{not json');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      error: {
        message: 'Request body is not valid JSON',
        type: 'invalid_request_error',
        code: 'invalid_json',
      },
    });
    const noModel = await post(app, { messages: [] });
    expect(noModel.status).toBe(400);
    expect(((await noModel.json()) as { error: { code: string } }).error.code).toBe('missing_model');
  });

  it('derives a tenant from the key without keeping the key', async () => {
    const app = appWith();
    const response = await post(app, { model: 'gpt-4o' }, { authorization: 'Bearer sk-secret-123' });
    const body = (await response.json()) as { tenant: string };
    expect(body.tenant).toMatch(/^key-[0-9a-f]{16}$/);
    expect(JSON.stringify(telemetry.spans().map((s) => s.attributes))).not.toContain('sk-secret-123');
  });

  it('opens a SERVER request span with the route, model and status', async () => {
    const app = appWith();
    await post(app, { model: 'gpt-4o' });
    const span = telemetry.spans().find((s) => s.name === 'POST /v1/chat/completions');
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.attributes).toMatchObject({
      'http.route': '/v1/chat/completions',
      'gen_ai.request.model': 'gpt-4o',
      'http.response.status_code': 200,
    });
  });

  it('streams SSE ending in [DONE], and records the request when the stream ends', async () => {
    const app = appWith();
    const before = await telemetry.histogramCount('alchemist.request.duration', {
      'alchemist.outcome': 'success',
    });
    const response = await post(app, { model: 'gpt-4o', stream: true });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const text = await response.text();
    expect(text.trim().split('\n\n')).toEqual([
      'data: {"model":"gpt-4o","choices":[{"delta":{"content":"a"}}]}',
      'data: {"model":"gpt-4o","choices":[{"delta":{"content":"b"}}],"usage":{"prompt_tokens":1,"completion_tokens":2}}',
      'data: [DONE]',
    ]);
    expect(
      await telemetry.histogramCount('alchemist.request.duration', { 'alchemist.outcome': 'success' }),
    ).toBe(before + 1);
  });

  it('lets a policy middleware reject with its error rendered as JSON and headers kept', async () => {
    const reject = policyMiddleware(
      'reject',
      {
        name: 'reject',
        execute: () => Promise.reject(new RateLimitedError('Too many requests', 'tier', { retryAfter: 7 })),
      },
      { headers: () => ({ RateLimit: '"tier";r=0;t=7' }) },
    );
    const app = appWith(reject);
    const response = await post(app, { model: 'gpt-4o' });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(response.headers.get('ratelimit')).toBe('"tier";r=0;t=7');
    expect(((await response.json()) as { error: { type: string } }).error.type).toBe('rate_limit_error');
    expect(
      await telemetry.histogramCount('alchemist.request.duration', { 'alchemist.outcome': 'rate_limited' }),
    ).toBe(1);
  });

  it('hands inner errors to outer policies as errors (so a cache can serve stale)', async () => {
    const seen: unknown[] = [];
    const outer = policyMiddleware('outer', {
      name: 'outer',
      async execute(ctx, next) {
        try {
          return await next(ctx);
        } catch (error) {
          seen.push(error);
          return jsonResult({ stale: true });
        }
      },
    });
    const failing = policyMiddleware('failing', {
      name: 'failing',
      execute: () => Promise.reject(new RateLimitedError('no', 'model')),
    });
    const app = appWith(outer, failing);
    const response = await post(app, { model: 'gpt-4o' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ stale: true });
    expect(seen).toHaveLength(1);
  });
});

describe('aiContext order and trace links', () => {
  it('answers 401 for an unknown caller before looking at the body', async () => {
    const app = new Hono();
    app.use('/v1/*', aiContext({ identify: () => undefined }));
    app.post(
      '/v1/chat/completions',
      aiHandler(async () => jsonResult({})),
    );
    const response = await post(app, '{not json');
    expect(response.status).toBe(401);
  });

  it('returns the request span as a traceparent header, on answers and on errors', async () => {
    const ok = await post(appWith(), { model: 'gpt-4o' });
    const span = telemetry.spans().find((s) => s.name === 'POST /v1/chat/completions');
    expect(ok.headers.get('traceparent')).toBe(
      `00-${span?.spanContext().traceId}-${span?.spanContext().spanId}-01`,
    );
    const reject = policyMiddleware('reject', {
      name: 'reject',
      execute: () => Promise.reject(new RateLimitedError('no', 'tier', { retryAfter: 1 })),
    });
    const limited = await post(appWith(reject), { model: 'gpt-4o' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('traceparent')).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });
});
