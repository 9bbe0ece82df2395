import { Hono } from 'hono';
import { describe, expect, it, vi } from 'vitest';
import { createBreakerRegistry } from '../../src/breaker/registry.ts';
import { createResilience } from '../../src/breaker/resilience.ts';
import type { CallContext } from '../../src/core/context.ts';
import { UpstreamError } from '../../src/core/errors.ts';
import { jsonResult } from '../../src/core/result.ts';
import { aiBreaker } from '../../src/hono/breaker.ts';
import type { AlchemistEnv } from '../../src/hono/context.ts';
import { aiContext } from '../../src/hono/context.ts';
import { aiHandler } from '../../src/hono/handler.ts';
import { traceUpstreamCall } from '../../src/telemetry/upstream.ts';
import { fakeSleeper, hangUntilAborted, manualClock } from './fakes.ts';

const post = (app: Hono<AlchemistEnv>) =>
  app.request('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
  });

describe('through Hono', () => {
  it('aiHandler + resilience: an open breaker answers 503 with Retry-After and an OpenAI-style body', async () => {
    const clock = manualClock();
    const resilience = createResilience({
      clock,
      sleep: fakeSleeper().sleep,
      failureThreshold: 3,
      halfOpenAfterMs: 20_000,
      maxRetries: 1,
    });
    let calls = 0;
    const call = (ctx: CallContext) =>
      traceUpstreamCall(ctx, {}, async () => {
        calls++;
        throw new UpstreamError('Bad gateway', 502);
      });
    const app = new Hono<AlchemistEnv>();
    app.use('/v1/*', aiContext());
    app.post('/v1/chat/completions', aiHandler(call, [resilience]));

    const first = await post(app);
    expect(first.status).toBe(502);
    expect(calls).toBe(2);
    const second = await post(app); // third failure opens the breakers; the retry is not attempted
    expect(second.status).toBe(503);
    expect(calls).toBe(3);

    clock.advance(5_000);
    const open = await post(app);
    expect(open.status).toBe(503);
    expect(open.headers.get('retry-after')).toBe('15');
    expect(await open.json()).toEqual({
      error: {
        message: "Circuit breaker 'openai' is open",
        type: 'service_unavailable',
        code: 'circuit_open',
      },
    });
    expect(calls).toBe(3);
    expect(resilience.state().breakers.find((b) => b.name === 'openai')).toMatchObject({
      state: 'open',
      retryAfterSeconds: 15,
    });
  });

  it('aiBreaker middleware: counts the handler’s 5xx, then fails fast without running it', async () => {
    const clock = manualClock();
    const breakers = createBreakerRegistry({ clock, failureThreshold: 2, halfOpenAfterMs: 10_000 });
    let handled = 0;
    const app = new Hono<AlchemistEnv>();
    app.use('/v1/*', aiContext(), aiBreaker({ breakers }));
    app.post('/v1/chat/completions', (c) => {
      handled++;
      return c.json({ error: { message: 'upstream down' } }, handled === 3 ? 200 : 500);
    });
    expect((await post(app)).status).toBe(500);
    expect((await post(app)).status).toBe(500);
    const rejected = await post(app);
    expect(rejected.status).toBe(503);
    expect(rejected.headers.get('retry-after')).toBe('10');
    expect(handled).toBe(2);

    clock.advance(10_000);
    expect((await post(app)).status).toBe(200); // the half-open probe succeeds
    expect(breakers.get('openai/gpt-4o')?.state).toBe('closed');
  });

  it('aiBreaker middleware: the total timeout aborts the handler’s signal and answers 504', async () => {
    let seen: AbortSignal | undefined;
    const app = new Hono<AlchemistEnv>();
    app.use('/v1/*', aiContext(), aiBreaker({ timeoutMs: 50 }));
    app.post('/v1/chat/completions', async (c) => {
      seen = c.get('alchemist').signal;
      await hangUntilAborted(seen);
      return c.json(jsonResult({}).body);
    });
    let response: Response;
    vi.useFakeTimers();
    try {
      const pending = post(app);
      await vi.advanceTimersByTimeAsync(49);
      expect(seen?.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      response = await pending;
    } finally {
      vi.useRealTimers();
    }
    expect(response.status).toBe(504);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('timeout_total');
    expect(seen?.aborted).toBe(true);
  });

  it('aiBreaker exposes its state for an admin route', async () => {
    const middleware = aiBreaker({ failureThreshold: 1 });
    const app = new Hono<AlchemistEnv>();
    app.use('/v1/*', aiContext(), middleware);
    app.post('/v1/chat/completions', () => {
      throw new UpstreamError('reset', 0);
    });
    expect((await post(app)).status).toBe(502);
    expect(middleware.guard.state().breakers).toMatchObject([
      { name: 'openai', state: 'open', lastFailure: 'connection' },
      { name: 'openai/gpt-4o', state: 'open' },
    ]);
  });
});
