import { describe, expect, it } from 'vitest';
import { createResilience } from '../../src/breaker/resilience.ts';
import type { Policy } from '../../src/core/compose.ts';
import { isCircuitOpenError, isOverloadedError } from '../../src/core/errors.ts';
import type { AiResult } from '../../src/core/result.ts';
import { jsonResult } from '../../src/core/result.ts';
import {
  badRequest,
  context,
  fakeSleeper,
  fakeUpstream,
  hangUntilAborted,
  manualClock,
  ok,
  serverError,
} from './fakes.ts';

const base = { clock: manualClock(), sleep: fakeSleeper().sleep, maxRetries: 1 };

describe('fallbacks', () => {
  it('tries fallbacks in order and reports the model that answered', async () => {
    const resilience = createResilience({
      ...base,
      fallbacks: { 'gpt-4o': ['gpt-4o-mini', 'claude-3-haiku'] },
      resolveProvider: (model) => (model.startsWith('claude') ? 'anthropic' : 'openai'),
    });
    const upstream = fakeUpstream(async (ctx) => {
      if (ctx.model === 'claude-3-haiku') return ok({ model: ctx.model });
      throw serverError(503);
    });
    const ctx = context();
    await expect(resilience.execute(ctx, upstream.next)).resolves.toMatchObject({
      body: { model: 'claude-3-haiku' },
    });
    expect(upstream.calls.map((c) => `${c.provider}/${c.model}`)).toEqual([
      'openai/gpt-4o',
      'openai/gpt-4o',
      'openai/gpt-4o-mini',
      'openai/gpt-4o-mini',
      'anthropic/claude-3-haiku',
    ]);
    expect(ctx.decisions.fallbackModel).toBe('claude-3-haiku');
  });

  it('goes straight to the fallback when the breaker is open, without calling the primary', async () => {
    const resilience = createResilience({
      ...base,
      maxRetries: 0,
      failureThreshold: 1,
      fallbacks: { 'gpt-4o': ['gpt-4o-mini'] },
    });
    const failing = fakeUpstream(serverError());
    await resilience.execute(context({ model: 'gpt-4o' }), failing.next).catch(() => {});
    expect(resilience.breakers.get('openai/gpt-4o')?.state).toBe('open');
    // The provider breaker opened too, so a same-provider fallback cannot help either.
    const error = await resilience.execute(context(), fakeUpstream(ok()).next).catch((e: unknown) => e);
    expect(isCircuitOpenError(error) && error.breaker).toBe('openai');
  });

  it('falls back across providers when a model breaker is open', async () => {
    const resilience = createResilience({
      ...base,
      maxRetries: 0,
      failureThreshold: 1,
      fallbacks: { 'gpt-4o': ['claude-3-haiku'] },
      resolveProvider: () => 'anthropic',
    });
    const primaryDown = fakeUpstream(async (ctx) => {
      if (ctx.provider === 'openai') throw serverError();
      return ok();
    });
    await resilience.execute(context(), primaryDown.next);
    expect(resilience.breakers.get('openai/gpt-4o')?.state).toBe('open');
    const upstream = fakeUpstream(ok());
    await expect(resilience.execute(context(), upstream.next)).resolves.toMatchObject({ status: 200 });
    expect(upstream.calls.map((c) => c.model)).toEqual(['claude-3-haiku']);
  });

  it('does not fall back on a 400 (the request is wrong everywhere)', async () => {
    const resilience = createResilience({ ...base, fallbacks: { 'gpt-4o': ['gpt-4o-mini'] } });
    const upstream = fakeUpstream(badRequest());
    await expect(resilience.execute(context(), upstream.next)).rejects.toMatchObject({ status: 400 });
    expect(upstream.calls).toHaveLength(1);
  });

  it('when every candidate fails, the client hears about the model it asked for', async () => {
    const resilience = createResilience({ ...base, maxRetries: 0, fallbacks: { 'gpt-4o': ['gpt-4o-mini'] } });
    const upstream = fakeUpstream(async (ctx) => jsonResult({ model: ctx.model }, 502));
    await expect(resilience.execute(context(), upstream.next)).resolves.toMatchObject({
      status: 502,
      body: { model: 'gpt-4o' },
    });
    expect(upstream.calls).toHaveLength(2);
  });

  it('accepts a function for fallbacks', async () => {
    const resilience = createResilience({
      ...base,
      maxRetries: 0,
      fallbacks: (model) => [`${model}-backup`],
    });
    const upstream = fakeUpstream(serverError(), ok());
    const ctx = context();
    await resilience.execute(ctx, upstream.next);
    expect(ctx.decisions.fallbackModel).toBe('gpt-4o-backup');
  });
});

describe('stale-if-error interplay', () => {
  it('an outer cache-like policy can serve stale on CircuitOpenError', async () => {
    const resilience = createResilience({ ...base, maxRetries: 0, failureThreshold: 1 });
    const stale = jsonResult({ stale: true });
    // A stand-in for the cache policy's stale-if-error (the cache engineer tests the real one).
    const staleIfError: Policy<AiResult> = {
      name: 'stale',
      async execute(ctx, next) {
        try {
          return await next(ctx);
        } catch (error) {
          if (isCircuitOpenError(error)) return stale;
          throw error;
        }
      },
    };
    const run = (next: Parameters<typeof resilience.execute>[1]) =>
      staleIfError.execute(context(), (ctx) => resilience.execute(ctx, next));
    await expect(run(fakeUpstream(serverError()).next)).rejects.toMatchObject({ status: 502 });
    const upstream = fakeUpstream(ok());
    await expect(run(upstream.next)).resolves.toBe(stale);
    expect(upstream.calls).toHaveLength(0);
  });
});

describe('bulkhead', () => {
  it('caps concurrency per provider, queues up to a bound, then rejects with 503 + Retry-After', async () => {
    const resilience = createResilience({
      ...base,
      maxRetries: 0,
      bulkhead: { maxConcurrent: 2, maxQueue: 1 },
    });
    const gate = Promise.withResolvers<void>();
    const upstream = fakeUpstream(async () => {
      await gate.promise;
      return ok();
    });
    const running = [1, 2, 3].map(() => resilience.execute(context(), upstream.next));
    const rejected = await resilience.execute(context(), upstream.next).catch((e: unknown) => e);
    expect(isOverloadedError(rejected)).toBe(true);
    expect(isOverloadedError(rejected) && rejected.status).toBe(503);
    expect(isOverloadedError(rejected) && rejected.retryAfter).toBe(1);
    expect(upstream.calls).toHaveLength(2);
    expect(resilience.state().bulkheads).toEqual([
      { provider: 'openai', active: 2, queued: 1, maxConcurrent: 2, maxQueue: 1 },
    ]);
    // Other providers have their own bulkhead.
    const other = fakeUpstream(ok());
    await expect(resilience.execute(context({ provider: 'anthropic' }), other.next)).resolves.toMatchObject({
      status: 200,
    });
    gate.resolve();
    await Promise.all(running);
    expect(upstream.calls).toHaveLength(3);
  });

  it('a queued caller who leaves gives up its place at once', async () => {
    const resilience = createResilience({ ...base, bulkhead: { maxConcurrent: 1, maxQueue: 1 } });
    const first = fakeUpstream((ctx) => hangUntilAborted(ctx.signal));
    const holder = new AbortController();
    const holding = resilience.execute(context({ signal: holder.signal }), first.next).catch(() => {});
    const caller = new AbortController();
    const queued = resilience.execute(context({ signal: caller.signal }), fakeUpstream(ok()).next);
    caller.abort();
    await expect(queued).rejects.toMatchObject({ name: 'AbortError' });
    holder.abort();
    await holding;
  });

  it('holds a slot until a stream ends', async () => {
    const resilience = createResilience({ ...base, bulkhead: { maxConcurrent: 1, maxQueue: 0 } });
    const upstream = fakeUpstream(async () => ({
      kind: 'stream' as const,
      status: 200,
      chunks: (async function* () {
        yield 1;
        yield 2;
      })(),
    }));
    const result = await resilience.execute(context({ stream: true }), upstream.next);
    await expect(resilience.execute(context(), fakeUpstream(ok()).next)).rejects.toSatisfy(isOverloadedError);
    if (result.kind === 'stream') for await (const _ of result.chunks);
    await new Promise((resolve) => setImmediate(resolve)); // the slot is freed as the stream ends
    await expect(resilience.execute(context(), fakeUpstream(ok()).next)).resolves.toMatchObject({
      status: 200,
    });
  });
});
