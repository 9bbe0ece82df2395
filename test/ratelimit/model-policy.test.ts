import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CallContext } from '../../src/core/context.ts';
import { isOverloadedError, type OverloadedError, UpstreamError } from '../../src/core/errors.ts';
import type { AiResult } from '../../src/core/result.ts';
import { jsonResult } from '../../src/core/result.ts';
import { parseDuration, pauseFromResult } from '../../src/ratelimit/feedback.ts';
import { modelRateLimitPolicy } from '../../src/ratelimit/model-policy.ts';
import { estimateTokens, loadTokenizer } from '../../src/ratelimit/tokens.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { ctxFor } from './helpers.ts';

// Exact counts in these tests: load the tokenizer the policies otherwise load on first need.
await loadTokenizer();

const telemetry = useTestTelemetry();

beforeEach(() => {
  vi.useFakeTimers({ now: 1_700_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Upstream that records the (fake) time of every call. */
function upstream(answer: (ctx: CallContext) => AiResult = () => jsonResult({ ok: true })) {
  const calls: number[] = [];
  return {
    calls,
    call: async (ctx: CallContext) => {
      calls.push(Date.now());
      return answer(ctx);
    },
  };
}

/** Most calls in any window of `windowMs` (windows start at each call). */
function maxInWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < sorted.length; i++) {
    let j = i;
    while (j < sorted.length && sorted[j]! < sorted[i]! + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return most;
}

describe('modelRateLimitPolicy', () => {
  it('never calls a model more than R times in any minute under a burst; callers beyond the bound get 503 at once', async () => {
    const policy = modelRateLimitPolicy({
      models: { 'gpt-4o': { requestsPerMinute: 10 } },
      maxQueueWaitMs: 180_000,
    });
    const up = upstream();
    const start = Date.now();
    const settled: { ok: boolean; at: number; error?: OverloadedError }[] = [];
    const calls = Array.from({ length: 50 }, () =>
      policy.execute(ctxFor(), up.call).then(
        () => settled.push({ ok: true, at: Date.now() }),
        (error: unknown) => {
          if (!isOverloadedError(error)) throw error;
          settled.push({ ok: false, at: Date.now(), error });
        },
      ),
    );
    await vi.advanceTimersByTimeAsync(0);
    // 10 now, then 10 per minute; a wait over 180 s is known at once: those 10 are rejected at t=0.
    const rejected = settled.filter((s) => !s.ok);
    expect(rejected).toHaveLength(10);
    expect(rejected.every((s) => s.at === start)).toBe(true);
    expect(rejected[0]!.error!.status).toBe(503);
    expect(rejected[0]!.error!.retryAfter).toBe(240);
    await vi.advanceTimersByTimeAsync(300_000);
    await Promise.all(calls);
    expect(up.calls).toHaveLength(40);
    expect(maxInWindow(up.calls, 60_000)).toBe(10);
    expect(up.calls.at(-1)! - start).toBe(180_000);
    expect(policy.state()['gpt-4o']).toMatchObject({ queued: 0, inFlight: 0 });
  });

  it('bounds the queue length, and times out waits it could not predict (concurrency)', async () => {
    const policy = modelRateLimitPolicy({
      models: { m: { maxConcurrent: 1 } },
      maxQueueLength: 2,
      maxQueueWaitMs: 1000,
    });
    let finish: (() => void) | undefined;
    const slow = policy.execute(ctxFor({ model: 'm' }), async () => {
      await new Promise<void>((resolve) => {
        finish = resolve;
      });
      return jsonResult({});
    });
    const waiting = [1, 2].map(() => policy.execute(ctxFor({ model: 'm' }), async () => jsonResult({})));
    const full = policy.execute(ctxFor({ model: 'm' }), async () => jsonResult({}));
    await expect(full).rejects.toSatisfy(isOverloadedError);
    const outcomes = waiting.map((p) =>
      p.then(
        () => 'ok',
        (e: unknown) => (isOverloadedError(e) ? 503 : e),
      ),
    );
    await vi.advanceTimersByTimeAsync(1000);
    expect(await Promise.all(outcomes)).toEqual([503, 503]);
    finish?.();
    await slow;
    await policy.execute(ctxFor({ model: 'm' }), async () => jsonResult({}));
  });

  it('passes models without limits straight through', async () => {
    const policy = modelRateLimitPolicy({ models: { 'gpt-4o': { requestsPerMinute: 1 } } });
    const up = upstream();
    for (let i = 0; i < 5; i++) await policy.execute(ctxFor({ model: 'other' }), up.call);
    expect(up.calls).toHaveLength(5);
  });

  it('limits tokens per minute with the estimate and settles on usage', async () => {
    const request = { messages: [{ role: 'user', content: 'hello there' }], max_tokens: 400 };
    const estimate = estimateTokens(request, 1024);
    const policy = modelRateLimitPolicy({
      models: { m: { tokensPerMinute: 1000 } },
      maxQueueWaitMs: 120_000,
    });
    const up = upstream(() => jsonResult({ usage: { prompt_tokens: 10, completion_tokens: 90 } }));
    await policy.execute(ctxFor({ model: 'm', request }), up.call);
    // Settled at 100: nine more fit before the window fills, the tenth waits for the first to expire.
    expect(policy.state().m!.remainingTokens).toBe(900);
    const more = Array.from({ length: 10 }, () => policy.execute(ctxFor({ model: 'm', request }), up.call));
    await vi.advanceTimersByTimeAsync(0);
    expect(estimate.input + estimate.output).toBeGreaterThan(400);
    expect(up.calls.length).toBeLessThan(11);
    await vi.advanceTimersByTimeAsync(120_000);
    await Promise.all(more);
    expect(up.calls).toHaveLength(11);
  });

  it('pauses the queue on a provider 429, honouring its Retry-After', async () => {
    const policy = modelRateLimitPolicy({ models: { m: { requestsPerMinute: 100 } } });
    let first = true;
    const up = upstream(() => {
      if (first) {
        first = false;
        throw new UpstreamError('slow down', 429, { retryAfter: 5 });
      }
      return jsonResult({});
    });
    await expect(policy.execute(ctxFor({ model: 'm' }), up.call)).rejects.toThrow('slow down');
    const start = Date.now();
    const next = policy.execute(ctxFor({ model: 'm' }), up.call);
    await vi.advanceTimersByTimeAsync(4999);
    expect(up.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await next;
    expect(up.calls[1]! - start).toBe(5000);
  });

  it('answers a 429 storm at once: after rejectAfter429s 429s in a row, calls during the pause get 429', async () => {
    // Issue 13 item 3: a provider 429 is capacity, handled here (not by the breakers); queueing every
    // caller behind a provider that keeps refusing only holds connections open.
    const policy = modelRateLimitPolicy({ models: { stormy: {} }, rejectAfter429s: 2 });
    const limited = upstream(() => {
      throw new UpstreamError('slow down', 429, { retryAfter: 4 });
    });
    await expect(policy.execute(ctxFor({ model: 'stormy' }), limited.call)).rejects.toThrow('slow down');
    const second = policy.execute(ctxFor({ model: 'stormy' }), limited.call).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(4_000); // one 429 in a row: the next call waits out the pause
    expect(await second).toMatchObject({ status: 429, upstreamStatus: 429 });
    await vi.advanceTimersByTimeAsync(1_000);
    const rejected = await policy.execute(ctxFor({ model: 'stormy' }), limited.call).catch((e: unknown) => e);
    expect(rejected).toMatchObject({ status: 429, code: 'rate_limited_model', retryAfter: 3 });
    expect(limited.calls).toHaveLength(2);
    expect(
      await telemetry.sum('alchemist.ratelimit.requests', {
        'alchemist.ratelimit.result': 'rejected',
        'gen_ai.request.model': 'stormy',
      }),
    ).toBe(1);
    // Once the pause is over the provider is asked again; an admitted answer ends the storm.
    await vi.advanceTimersByTimeAsync(3_000);
    await expect(policy.execute(ctxFor({ model: 'stormy' }), upstream().call)).resolves.toMatchObject({
      status: 200,
    });
    expect(policy.state().stormy).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('pauses the queue when the provider says no requests remain until the reset', async () => {
    const policy = modelRateLimitPolicy({ models: { m: { requestsPerMinute: 100 } } });
    let headers: Record<string, string> = {
      'x-ratelimit-remaining-requests': '0',
      'x-ratelimit-reset-requests': '2s',
    };
    const up = upstream(() => {
      const result = jsonResult({}, 200, headers);
      headers = {};
      return result;
    });
    await policy.execute(ctxFor({ model: 'm' }), up.call);
    const start = Date.now();
    const next = policy.execute(ctxFor({ model: 'm' }), up.call);
    await vi.advanceTimersByTimeAsync(2000);
    await next;
    expect(up.calls[1]! - start).toBe(2000);
  });

  it('records allowed, queued and rejected with scope model, the queue wait and remaining capacity', async () => {
    const match = (result: string) => ({
      'alchemist.ratelimit.result': result,
      'alchemist.ratelimit.scope': 'model',
      'gen_ai.request.model': 'metered',
    });
    const policy = modelRateLimitPolicy({
      models: { metered: { requestsPerMinute: 1 } },
      maxQueueWaitMs: 60_000,
    });
    const up = upstream();
    await policy.execute(ctxFor({ model: 'metered' }), up.call);
    const queued = policy.execute(ctxFor({ model: 'metered' }), up.call);
    await expect(policy.execute(ctxFor({ model: 'metered' }), up.call)).rejects.toSatisfy(isOverloadedError);
    await vi.advanceTimersByTimeAsync(60_000);
    await queued;
    expect(await telemetry.sum('alchemist.ratelimit.requests', match('allowed'))).toBe(1);
    expect(await telemetry.sum('alchemist.ratelimit.requests', match('queued'))).toBe(1);
    expect(await telemetry.sum('alchemist.ratelimit.requests', match('rejected'))).toBe(1);
    expect(
      await telemetry.histogramCount('alchemist.ratelimit.queue.duration', {
        'alchemist.ratelimit.scope': 'model',
        'gen_ai.request.model': 'metered',
      }),
    ).toBe(3);
    expect(
      await telemetry.gauge('alchemist.ratelimit.remaining', {
        'alchemist.ratelimit.scope': 'model',
        'gen_ai.request.model': 'metered',
      }),
    ).toBe(0);
  });

  it('remaining capacity refills on the gauge without a new decision (issue 15: it stayed at 0)', async () => {
    const policy = modelRateLimitPolicy({ models: { refilling: { requestsPerMinute: 2 } } });
    const at = { 'alchemist.ratelimit.scope': 'model', 'gen_ai.request.model': 'refilling' };
    expect(await telemetry.gauge('alchemist.ratelimit.remaining', at)).toBe(2);
    const up = upstream();
    await policy.execute(ctxFor({ model: 'refilling' }), up.call);
    await policy.execute(ctxFor({ model: 'refilling' }), up.call);
    expect(await telemetry.gauge('alchemist.ratelimit.remaining', at)).toBe(0);
    // No call for a window: the gauge reads the limiter now, not what the last decision saw.
    await vi.advanceTimersByTimeAsync(60_001);
    expect(await telemetry.gauge('alchemist.ratelimit.remaining', at)).toBe(2);
  });

  it('validates options', () => {
    expect(() => modelRateLimitPolicy({ models: { m: { requestsPerMinute: 0 } } })).toThrow(
      /models\.m\.requestsPerMinute must be a positive number, got 0/,
    );
    expect(() => modelRateLimitPolicy({ models: {}, maxQueueWaitMs: -1 })).toThrow(/maxQueueWaitMs/);
  });
});

describe('upstream feedback parsing', () => {
  it('parses OpenAI reset durations', () => {
    expect(parseDuration('1s')).toBe(1000);
    expect(parseDuration('6m0s')).toBe(360_000);
    expect(parseDuration('20ms')).toBe(20);
    expect(parseDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseDuration('soon')).toBeUndefined();
  });

  it('reads Anthropic reset times and 429 results', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const anthropic = jsonResult({}, 200, {
      'anthropic-ratelimit-tokens-remaining': '0',
      'anthropic-ratelimit-tokens-reset': '2026-01-01T00:00:30Z',
    });
    expect(pauseFromResult(anthropic, now, 1000)).toBe(30_000);
    expect(pauseFromResult(jsonResult({}, 429, { 'retry-after': '7' }), now, 1000)).toBe(7000);
    expect(
      pauseFromResult(jsonResult({}, 200, { 'x-ratelimit-remaining-requests': '12' }), now, 1000),
    ).toBeUndefined();
  });
});
