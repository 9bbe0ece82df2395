import { describe, expect, it } from 'vitest';
import { fullJitterDelay } from '../../src/breaker/backoff.ts';
import { createResilience, type ResilienceOptions } from '../../src/breaker/resilience.ts';
import { isCircuitOpenError, isUpstreamError, UpstreamError } from '../../src/core/errors.ts';
import { jsonResult, streamResult } from '../../src/core/result.ts';
import {
  badRequest,
  chunks,
  collect,
  context,
  fakeSleeper,
  fakeUpstream,
  manualClock,
  ok,
  rateLimited,
  serverError,
  stream,
} from './fakes.ts';

/** A seeded random source in [0, 1) (mulberry32), so jitter is checked by value, not by wall time. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function setup(options: ResilienceOptions = {}) {
  const sleeper = fakeSleeper();
  const resilience = createResilience({
    clock: manualClock(),
    sleep: sleeper.sleep,
    failureThreshold: 100,
    ...options,
  });
  return { sleeper, resilience };
}

describe('retries', () => {
  it('retries retryable failures up to maxRetries, then surfaces the last error', async () => {
    const { sleeper, resilience } = setup({ maxRetries: 3 });
    const upstream = fakeUpstream(serverError(502));
    const error = await resilience.execute(context(), upstream.next).catch((e: unknown) => e);
    expect(isUpstreamError(error) && error.upstreamStatus).toBe(502);
    expect(upstream.calls).toHaveLength(4);
    expect(sleeper.delays).toHaveLength(3);
  });

  it('stops retrying at the first success', async () => {
    const { resilience } = setup({ maxRetries: 3 });
    const upstream = fakeUpstream(serverError(), new UpstreamError('socket hang up', 0), ok());
    await expect(resilience.execute(context(), upstream.next)).resolves.toMatchObject({ status: 200 });
    expect(upstream.calls).toHaveLength(3);
  });

  it('waits a full-jitter delay: random in [0, min(cap, base * 2^n))', async () => {
    const draws = [0.5, 0.999, 0, 0.25, 1];
    const random = () => draws.shift() ?? 0;
    const { sleeper, resilience } = setup({
      maxRetries: 5,
      retryBaseDelayMs: 100,
      retryMaxDelayMs: 1_000,
      random,
    });
    await resilience.execute(context(), fakeUpstream(serverError()).next).catch(() => {});
    // ceilings: 100, 200, 400, 800, 1000 (capped)
    expect(sleeper.delays).toEqual([50, 199.8, 0, 200, 1_000]);
  });

  it('keeps every jittered delay within its bound (property check over random draws)', () => {
    for (let retry = 1; retry <= 12; retry++) {
      for (let i = 0; i < 200; i++) {
        const delay = fullJitterDelay(retry, 250, 8_000, Math.random);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(Math.min(8_000, 250 * 2 ** (retry - 1)));
      }
    }
    expect(fullJitterDelay(1, 100, 1_000, () => 7)).toBe(100); // a bad random source cannot stretch it
  });

  it("honours the provider's Retry-After instead of the backoff (a zero jitter draw waits exactly it)", async () => {
    const { sleeper, resilience } = setup({ maxRetries: 2, random: () => 0 });
    const upstream = fakeUpstream(rateLimited(3), ok());
    await resilience.execute(context(), upstream.next);
    expect(sleeper.delays).toEqual([3_000]);
    expect(upstream.calls).toHaveLength(2);
  });

  it('reads Retry-After from a returned result and from an SDK error', async () => {
    const { sleeper, resilience } = setup({ maxRetries: 2, random: () => 0 });
    const sdkError = Object.assign(new Error('Rate limit'), {
      status: 429,
      headers: { 'retry-after-ms': '1500' },
    });
    const upstream = fakeUpstream(jsonResult({ error: {} }, 503, { 'retry-after': '2' }), sdkError, ok());
    await resilience.execute(context(), upstream.next);
    expect(sleeper.delays).toEqual([2_000, 1_500]);
  });

  it('spreads callers told the same Retry-After: never sooner, then jittered (issue 13 item 10)', async () => {
    // Four concurrent callers all get "429, Retry-After: 1". They used to come back within 1 ms.
    const draws = seeded(10);
    const expected = seeded(10);
    const { sleeper, resilience } = setup({ maxRetries: 1, retryBaseDelayMs: 500, random: draws });
    const callers = Array.from({ length: 4 }, () =>
      resilience.execute(context(), fakeUpstream(rateLimited(1), ok()).next),
    );
    await expect(Promise.all(callers)).resolves.toHaveLength(4);
    // Retry-After plus a full-jitter draw of the first backoff step, [0, 500) ms.
    expect(sleeper.delays).toEqual(Array.from({ length: 4 }, () => 1_000 + 500 * expected()));
    for (const delay of sleeper.delays) {
      expect(delay).toBeGreaterThanOrEqual(1_000);
      expect(delay).toBeLessThan(1_500);
    }
    expect(new Set(sleeper.delays).size).toBe(4);
    expect(Math.max(...sleeper.delays) - Math.min(...sleeper.delays)).toBeGreaterThan(100);
  });

  it('gives up when Retry-After is longer than maxRetryAfterMs, keeping it for the client', async () => {
    const { sleeper, resilience } = setup({ maxRetries: 2, maxRetryAfterMs: 10_000 });
    const upstream = fakeUpstream(rateLimited(60));
    const error = await resilience.execute(context(), upstream.next).catch((e: unknown) => e);
    expect(isUpstreamError(error) && error.retryAfter).toBe(60);
    expect(upstream.calls).toHaveLength(1);
    expect(sleeper.delays).toEqual([]);
  });

  it('never retries a 400', async () => {
    const { sleeper, resilience } = setup({ maxRetries: 3 });
    const upstream = fakeUpstream(badRequest());
    await expect(resilience.execute(context(), upstream.next)).rejects.toMatchObject({ status: 400 });
    expect(upstream.calls).toHaveLength(1);
    expect(sleeper.delays).toEqual([]);
  });

  it('never retries once the caller aborted', async () => {
    const { resilience } = setup({ maxRetries: 3 });
    const caller = new AbortController();
    const upstream = fakeUpstream(async () => {
      caller.abort();
      throw serverError();
    });
    await expect(resilience.execute(context({ signal: caller.signal }), upstream.next)).rejects.toThrow();
    expect(upstream.calls).toHaveLength(1);
  });

  it('stops when the caller aborts during the backoff', async () => {
    const caller = new AbortController();
    const resilience = createResilience({
      maxRetries: 3,
      sleep: async (_ms, signal) => {
        caller.abort();
        throw signal.reason;
      },
    });
    const upstream = fakeUpstream(serverError());
    await expect(resilience.execute(context({ signal: caller.signal }), upstream.next)).rejects.toThrow();
    expect(upstream.calls).toHaveLength(1);
  });

  it('never retries a stream that failed after its first chunk (it reached the client)', async () => {
    const { resilience } = setup({ maxRetries: 3 });
    const upstream = fakeUpstream(stream(5, 2), stream(5));
    const result = await resilience.execute(context({ stream: true }), upstream.next);
    expect(result.kind).toBe('stream');
    const received: unknown[] = [];
    const error = await (async () => {
      for await (const chunk of (result as { chunks: AsyncIterable<unknown> }).chunks) received.push(chunk);
    })().catch((e: unknown) => e);
    expect(received).toHaveLength(2);
    expect(isUpstreamError(error)).toBe(true);
    expect(upstream.calls).toHaveLength(1);
  });

  it('does retry a stream that failed before sending anything', async () => {
    const { resilience } = setup({ maxRetries: 3 });
    const upstream = fakeUpstream(stream(5, 0), stream(3));
    const result = await resilience.execute(context({ stream: true }), upstream.next);
    expect(await collect((result as { chunks: AsyncIterable<unknown> }).chunks)).toHaveLength(3);
    expect(upstream.calls).toHaveLength(2);
  });

  it('retries returned 5xx results and returns the last one when retries run out', async () => {
    const { resilience } = setup({ maxRetries: 1 });
    const upstream = fakeUpstream(jsonResult({ n: 1 }, 500), jsonResult({ n: 2 }, 503));
    await expect(resilience.execute(context(), upstream.next)).resolves.toMatchObject({
      status: 503,
      body: { n: 2 },
    });
    expect(upstream.calls).toHaveLength(2);
  });

  it('stops retrying as soon as the breaker opens', async () => {
    const { resilience } = setup({ maxRetries: 5, failureThreshold: 2 });
    const upstream = fakeUpstream(serverError());
    const error = await resilience.execute(context(), upstream.next).catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
    expect(upstream.calls).toHaveLength(2);
  });

  it('respects the total deadline: no retry whose wait would cross it', async () => {
    const clock = manualClock();
    const delays: number[] = [];
    const resilience = createResilience({
      clock,
      maxRetries: 10,
      deadlineMs: 5_000,
      retryBaseDelayMs: 1_000,
      retryMaxDelayMs: 1_000,
      random: () => 1,
      sleep: async (ms) => {
        delays.push(ms);
        clock.advance(ms);
      },
    });
    const upstream = fakeUpstream(async () => {
      clock.advance(500);
      throw serverError();
    });
    await expect(resilience.execute(context(), upstream.next)).rejects.toThrow();
    // Each round costs 1.5 s: attempts at 0, 1.5, 3, 4.5 s; the 4th retry would start after 5 s.
    expect(upstream.calls).toHaveLength(4);
    expect(delays).toEqual([1_000, 1_000, 1_000]);
  });

  it('maxRetries 0 disables retries', async () => {
    const { resilience } = setup({ maxRetries: 0 });
    const upstream = fakeUpstream(serverError());
    await expect(resilience.execute(context(), upstream.next)).rejects.toThrow();
    expect(upstream.calls).toHaveLength(1);
  });

  it('retries connection errors and timeouts from SDKs and sockets', async () => {
    const { sleeper, resilience } = setup({ maxRetries: 3 });
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const sdkTimeout = Object.assign(new Error('Request timed out.'), { name: 'APIConnectionTimeoutError' });
    const upstream = fakeUpstream(refused, sdkTimeout, streamResult(chunks(1)));
    await resilience.execute(context(), upstream.next);
    expect(upstream.calls).toHaveLength(3);
    expect(sleeper.delays).toHaveLength(2);
  });
});
