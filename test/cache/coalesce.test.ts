import { describe, expect, it } from 'vitest';
import { aiCachePolicy } from '../../src/cache/policy.ts';
import { StreamRecording } from '../../src/cache/recording.ts';
import { type CallContext, createCallContext } from '../../src/core/context.ts';
import { type AiResult, jsonResult } from '../../src/core/result.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

useTestTelemetry();

const request = { model: 'gpt-4o', messages: [{ role: 'user', content: 'same' }] };
const ctxWith = (signal: AbortSignal) =>
  createCallContext({ provider: 'openai', model: 'gpt-4o', request, signal, tenant: 't' });

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('coalescing and cancellation', () => {
  it("keeps the shared upstream call alive when the leader's caller leaves while a follower waits", async () => {
    const policy = aiCachePolicy();
    const release = deferred<void>();
    let upstreamSignal: AbortSignal | undefined;
    const upstream = async (ctx: CallContext): Promise<AiResult> => {
      upstreamSignal = ctx.signal;
      await release.promise;
      return jsonResult({ answer: 42 });
    };
    const leaderAbort = new AbortController();
    const leader = policy.execute(ctxWith(leaderAbort.signal), upstream);
    await new Promise((resolve) => setImmediate(resolve));
    const follower = policy.execute(ctxWith(new AbortController().signal), upstream);
    await new Promise((resolve) => setImmediate(resolve));
    leaderAbort.abort(new Error('client went away'));
    expect(upstreamSignal?.aborted).toBe(false);
    release.resolve();
    expect(((await follower) as { body: unknown }).body).toEqual({ answer: 42 });
    await leader;
  });

  it('aborts the shared upstream call once every caller has left', async () => {
    const policy = aiCachePolicy();
    let upstreamSignal: AbortSignal | undefined;
    const upstream = (ctx: CallContext) =>
      new Promise<AiResult>((_resolve, reject) => {
        upstreamSignal = ctx.signal;
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
      });
    const a = new AbortController();
    const b = new AbortController();
    const first = policy.execute(ctxWith(a.signal), upstream);
    await new Promise((resolve) => setImmediate(resolve));
    const second = policy.execute(ctxWith(b.signal), upstream);
    await new Promise((resolve) => setImmediate(resolve));
    a.abort(new Error('a left'));
    expect(upstreamSignal?.aborted).toBe(false);
    b.abort(new Error('b left'));
    expect(upstreamSignal?.aborted).toBe(true);
    await expect(first).rejects.toThrow('b left');
    await expect(second).rejects.toThrow('b left');
    expect(policy.stats().inFlight).toBe(0);
  });
});

describe('StreamRecording', () => {
  it('reads the source once for several readers, at the pace of the fastest, and closes it when all stop', async () => {
    let pulled = 0;
    let closed = false;
    const source = (async function* () {
      try {
        for (let i = 0; i < 100; i++) {
          pulled++;
          yield i;
        }
      } finally {
        closed = true;
      }
    })();
    const settled: string[] = [];
    const recording = new StreamRecording(source, (r) => {
      settled.push(r.state);
    });
    const a = recording.replay()[Symbol.asyncIterator]();
    const b = recording.replay()[Symbol.asyncIterator]();
    expect((await a.next()).value).toBe(0);
    expect((await a.next()).value).toBe(1);
    expect((await b.next()).value).toBe(0);
    expect(pulled).toBe(2);
    await a.return?.();
    expect(closed).toBe(false);
    await b.return?.();
    await new Promise((resolve) => setImmediate(resolve));
    expect(closed).toBe(true);
    expect(settled).toEqual(['cancelled']);
  });
});

// Issue 15: a coalesced follower's request span had no link to the leader's, whose child is the one
// upstream call that answered both.
describe('coalesced traces', () => {
  it("links each follower's request span to the leader's", async () => {
    const telemetry = useTestTelemetry();
    const tracer = telemetry.tracerProvider.getTracer('test');
    const policy = aiCachePolicy();
    const release = deferred<void>();
    const upstream = async (): Promise<AiResult> => {
      await release.promise;
      return jsonResult({ answer: 42 });
    };
    const spans = ['leader', 'follower-1', 'follower-2'].map((name) => tracer.startSpan(name));
    const calls = spans.map((span) =>
      policy.execute(
        createCallContext({
          provider: 'openai',
          model: 'gpt-4o',
          request,
          signal: new AbortController().signal,
          tenant: 't',
          span,
        }),
        upstream,
      ),
    );
    await new Promise((resolve) => setImmediate(resolve));
    release.resolve();
    await Promise.all(calls);
    for (const span of spans) span.end();
    const finished = (name: string) => telemetry.spans().find((s) => s.name === name)!;
    const leader = finished('leader').spanContext();
    for (const name of ['follower-1', 'follower-2']) {
      expect(finished(name).links).toEqual([
        { context: leader, attributes: { 'alchemist.cache.coalesced': true }, droppedAttributesCount: 0 },
      ]);
    }
    expect(finished('leader').links).toEqual([]);
  });
});
