import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createResilience } from '../../src/breaker/resilience.ts';
import type { UpstreamTimeoutError } from '../../src/core/errors.ts';
import { isUpstreamTimeoutError } from '../../src/core/errors.ts';
import type { StreamResult } from '../../src/core/result.ts';
import { streamResult } from '../../src/core/result.ts';
import { context, fakeUpstream, hangUntilAborted, ok } from './fakes.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const timeouts = { timeoutMs: 10_000, firstChunkTimeoutMs: 3_000, idleTimeoutMs: 1_000, maxRetries: 0 };

/** A stream that sends `head` chunks, then hangs (honouring abort) — a stalled provider. */
function stallingStream(signal: AbortSignal, head: number): AsyncIterable<unknown> {
  return (async function* () {
    for (let i = 0; i < head; i++) yield { i };
    await hangUntilAborted(signal);
  })();
}

describe('timeouts', () => {
  it('total: aborts the upstream request and fails with a 504 UpstreamTimeoutError', async () => {
    const resilience = createResilience(timeouts);
    const upstream = fakeUpstream((ctx) => hangUntilAborted(ctx.signal));
    const outcome = resilience.execute(context(), upstream.next).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(upstream.calls[0]?.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = (await outcome) as UpstreamTimeoutError;
    expect(isUpstreamTimeoutError(error) && error.kind).toBe('total');
    expect(error.status).toBe(504);
    expect(upstream.calls[0]?.signal.aborted).toBe(true);
  });

  it('first chunk: a stream that sends nothing is aborted (and, before sending, may be retried)', async () => {
    const resilience = createResilience({ ...timeouts, maxRetries: 1, sleep: async () => {} });
    const upstream = fakeUpstream(async (ctx) => streamResult(stallingStream(ctx.signal, 0)));
    const outcome = resilience.execute(context({ stream: true }), upstream.next).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(upstream.calls[0]?.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(3_000);
    const error = await outcome;
    expect(isUpstreamTimeoutError(error) && error.kind).toBe('first_chunk');
    expect(upstream.calls).toHaveLength(2);
    expect(upstream.calls.every((call) => call.signal.aborted)).toBe(true);
  });

  it('idle: a stream that stalls mid-way throws to its consumer and aborts the upstream', async () => {
    const resilience = createResilience({ ...timeouts, maxRetries: 3 });
    const upstream = fakeUpstream(async (ctx) => streamResult(stallingStream(ctx.signal, 2)));
    const result = (await resilience.execute(context({ stream: true }), upstream.next)) as StreamResult;
    const received: unknown[] = [];
    const consumed = (async () => {
      for await (const chunk of result.chunks) received.push(chunk);
    })().catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(999);
    expect(upstream.calls[0]?.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await consumed;
    expect(isUpstreamTimeoutError(error) && error.kind).toBe('idle');
    expect(received).toEqual([{ i: 0 }, { i: 1 }]);
    expect(upstream.calls[0]?.signal.aborted).toBe(true);
    expect(upstream.calls).toHaveLength(1); // it had started flowing: never retried
  });

  it('the idle timer restarts on every chunk, so a slow but steady stream completes', async () => {
    const resilience = createResilience(timeouts);
    const upstream = fakeUpstream(async () =>
      streamResult(
        (async function* () {
          for (let i = 0; i < 5; i++) {
            await new Promise((resolve) => setTimeout(resolve, 800));
            yield { i };
          }
        })(),
      ),
    );
    const pending = resilience.execute(context({ stream: true }), upstream.next);
    await vi.advanceTimersByTimeAsync(800);
    const result = (await pending) as StreamResult;
    const consumed = (async () => {
      const out: unknown[] = [];
      for await (const chunk of result.chunks) out.push(chunk);
      return out;
    })();
    await vi.advanceTimersByTimeAsync(4 * 800);
    await expect(consumed).resolves.toHaveLength(5);
    expect(upstream.calls[0]?.signal.aborted).toBe(false);
  });

  it('a consumer that stops reading early aborts the upstream', async () => {
    const resilience = createResilience(timeouts);
    const upstream = fakeUpstream(async (ctx) => streamResult(stallingStream(ctx.signal, 3)));
    const result = (await resilience.execute(context({ stream: true }), upstream.next)) as StreamResult;
    for await (const _chunk of result.chunks) break;
    expect(upstream.calls[0]?.signal.aborted).toBe(true);
  });

  it('the caller leaving aborts the upstream at once, without a timeout error', async () => {
    const resilience = createResilience(timeouts);
    const caller = new AbortController();
    const upstream = fakeUpstream((ctx) => hangUntilAborted(ctx.signal));
    const outcome = resilience
      .execute(context({ signal: caller.signal }), upstream.next)
      .catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(100);
    caller.abort();
    const error = await outcome;
    expect(isUpstreamTimeoutError(error)).toBe(false);
    expect((error as Error).name).toBe('AbortError');
    expect(upstream.calls[0]?.signal.aborted).toBe(true);
    expect(resilience.breakers.get('openai')?.snapshot().failures).toBe(0);
  });

  it('clears its timers after a fast answer', async () => {
    const resilience = createResilience(timeouts);
    await resilience.execute(context(), fakeUpstream(ok()).next);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the total deadline bounds an attempt that the per-attempt timeout would allow', async () => {
    const resilience = createResilience({ ...timeouts, timeoutMs: 60_000, deadlineMs: 5_000 });
    const upstream = fakeUpstream((ctx) => hangUntilAborted(ctx.signal));
    const outcome = resilience.execute(context(), upstream.next).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(5_000);
    const error = await outcome;
    expect(isUpstreamTimeoutError(error) && error.kind).toBe('total');
    expect(upstream.calls[0]?.signal.aborted).toBe(true);
  });

  it('timeouts count as breaker failures', async () => {
    const resilience = createResilience({ ...timeouts, failureThreshold: 1 });
    const outcome = resilience
      .execute(context(), fakeUpstream((ctx) => hangUntilAborted(ctx.signal)).next)
      .catch(() => {});
    await vi.advanceTimersByTimeAsync(10_000);
    await outcome;
    expect(resilience.breakers.get('openai')?.snapshot()).toMatchObject({
      state: 'open',
      lastFailure: 'timeout',
    });
  });
});
