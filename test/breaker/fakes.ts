import type { Next } from '../../src/core/compose.ts';
import type { CallContext } from '../../src/core/context.ts';
import { createCallContext } from '../../src/core/context.ts';
import { UpstreamError } from '../../src/core/errors.ts';
import type { AiResult } from '../../src/core/result.ts';
import { jsonResult, streamResult } from '../../src/core/result.ts';
import { manualClock as handClock } from '../helpers/clock.ts';

/** A clock the test moves by hand, starting at 1 000 000 ms. */
export const manualClock = (start = 1_000_000) => handClock(start);

/** A sleeper that records delays and returns at once (or rejects when the signal already aborted). */
export function fakeSleeper() {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (ms: number, signal: AbortSignal) => {
      delays.push(ms);
      if (signal.aborted) throw signal.reason;
    },
  };
}

/** One scripted upstream answer: a value to return, an error to throw, or a custom handler. */
export type Step = AiResult | Error | ((ctx: CallContext) => Promise<AiResult>);

/**
 * A fake upstream that plays `steps` in order (the last one repeats) and records every call's model
 * and signal, so tests can see how many attempts reached it and whether they were aborted.
 */
export function fakeUpstream(...steps: Step[]) {
  const calls: { model: string; provider: string; signal: AbortSignal }[] = [];
  const next: Next<AiResult> = async (ctx) => {
    calls.push({ model: ctx.model, provider: ctx.provider, signal: ctx.signal });
    const step = steps[Math.min(calls.length - 1, steps.length - 1)];
    if (step === undefined) throw new Error('no step');
    if (step instanceof Error) throw step;
    if (typeof step === 'function') return step(ctx);
    return step;
  };
  return { next, calls };
}

export const ok = (body: unknown = { id: 'chatcmpl-1', model: 'gpt-4o', choices: [] }) => jsonResult(body);
export const serverError = (status = 500) => new UpstreamError(`Upstream answered ${status}`, status);
export const rateLimited = (retryAfter?: number) =>
  new UpstreamError('Upstream answered 429', 429, retryAfter === undefined ? {} : { retryAfter });
export const badRequest = () => new UpstreamError('Upstream answered 400', 400);

/** A stream of chunks; `failAfter` throws after that many chunks. */
export function chunks(count: number, failAfter?: number): AsyncIterable<unknown> {
  return (async function* () {
    for (let i = 0; i < count; i++) {
      if (failAfter !== undefined && i === failAfter)
        throw new UpstreamError('connection reset mid-stream', 0);
      yield { choices: [{ delta: { content: `c${i}` } }] };
    }
  })();
}

export const stream = (count: number, failAfter?: number) => streamResult(chunks(count, failAfter));

/** A promise that settles only when the signal aborts (an upstream that hangs but honours abort). */
export function hangUntilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

export function context(overrides: Partial<Parameters<typeof createCallContext>[0]> = {}): CallContext {
  return createCallContext({ provider: 'openai', model: 'gpt-4o', ...overrides });
}

export async function collect(iterable: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}
