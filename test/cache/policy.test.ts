import { beforeEach, describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/cache/memory.ts';
import { aiCachePolicy } from '../../src/cache/policy.ts';
import type { CacheStore } from '../../src/cache/types.ts';
import { CircuitOpenError, UpstreamError } from '../../src/core/errors.ts';
import { jsonResult, streamResult } from '../../src/core/result.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { answer, cacheApp, chat, chunksOf, defaultUpstream, manualClock } from './app.ts';

const telemetry = useTestTelemetry();
beforeEach(() => telemetry.reset());

const sseLines = (text: string) => text.trim().split('\n\n');
const results = (result: string, layer?: string) =>
  telemetry.sum('alchemist.cache.requests', {
    'alchemist.cache.result': result,
    ...(layer ? { 'alchemist.cache.layer': layer } : {}),
  });

describe('aiCache (Hono)', () => {
  it('misses, stores, then hits with RFC 9211 Cache-Status, Age and Server-Timing', async () => {
    const clock = manualClock();
    const { post, calls } = cacheApp(aiCachePolicy({ ttl: 60, clock }));
    const hitsBefore = await telemetry.sum('alchemist.cache.requests', { 'alchemist.cache.result': 'hit' });
    const savedBefore = await telemetry.sum('alchemist.cache.tokens_saved');
    const costBefore = await telemetry.sum('alchemist.cache.cost_saved');
    const first = await post(chat('hello'));
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-status')).toBe('alchemist-perf; fwd=miss; stored');
    expect(first.headers.get('server-timing')).toMatch(/^cache;dur=\d+\.\d\d;desc="miss"/);
    const firstBody = await first.json();

    clock.advance(10_000);
    const second = await post(chat('hello'));
    expect(second.headers.get('cache-status')).toBe('alchemist-perf; hit; ttl=50');
    expect(second.headers.get('age')).toBe('10');
    expect(second.headers.get('server-timing')).toMatch(/desc="hit"/);
    expect(await second.json()).toEqual(firstBody);
    expect(calls.count).toBe(1);

    expect(await telemetry.sum('alchemist.cache.requests', { 'alchemist.cache.result': 'hit' })).toBe(
      hitsBefore + 1,
    );
    expect(
      await telemetry.sum('alchemist.cache.requests', {
        'alchemist.cache.result': 'miss',
        'alchemist.cache.layer': 'memory',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(await telemetry.sum('alchemist.cache.tokens_saved')).toBe(savedBefore + 30);
    // gpt-4o-mini: $0.15 / 1M input, $0.60 / 1M output
    expect((await telemetry.sum('alchemist.cache.cost_saved')) - costBefore).toBeCloseTo(
      (10 * 0.15 + 20 * 0.6) / 1e6,
      12,
    );
    const span = telemetry.spans().findLast((s) => s.name === 'POST /v1/chat/completions');
    expect(span?.attributes).toMatchObject({
      'alchemist.cache.result': 'hit',
      'alchemist.cache.layer': 'memory',
      'alchemist.cache.ttl': 50,
    });
    expect(span?.attributes['alchemist.cache.key']).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof span?.attributes['alchemist.cache.lookup_ms']).toBe('number');
    // A hit is not a provider call: no GenAI client metrics for it.
    const cachePoints = await telemetry.points('alchemist.cache.requests');
    for (const point of cachePoints)
      expect(Object.keys(point.attributes).sort()).not.toContain('alchemist.cache.key');
  });

  it('expires entries after the TTL (injected clock)', async () => {
    const clock = manualClock();
    const { post, calls } = cacheApp(aiCachePolicy({ ttl: 60, clock }));
    await post(chat('ttl'));
    clock.advance(59_999);
    expect((await post(chat('ttl'))).headers.get('cache-status')).toMatch(/hit/);
    clock.advance(1);
    expect((await post(chat('ttl'))).headers.get('cache-status')).toBe('alchemist-perf; fwd=miss; stored');
    expect(calls.count).toBe(2);
  });

  it('keeps tenants apart unless shareAcrossTenants', async () => {
    const isolated = cacheApp(aiCachePolicy());
    const a = await isolated.post(chat('same'), { authorization: 'Bearer sk-a' });
    const b = await isolated.post(chat('same'), { authorization: 'Bearer sk-b' });
    expect(b.headers.get('cache-status')).toMatch(/fwd=miss/);
    expect(await b.json()).not.toEqual(await a.json());
    expect(isolated.calls.count).toBe(2);

    const shared = cacheApp(aiCachePolicy({ shareAcrossTenants: true }));
    await shared.post(chat('same'), { authorization: 'Bearer sk-a' });
    const other = await shared.post(chat('same'), { authorization: 'Bearer sk-b' });
    expect(other.headers.get('cache-status')).toMatch(/hit/);
    expect(shared.calls.count).toBe(1);
  });

  it('treats reordered, reformatted requests as the same', async () => {
    const { app, calls } = cacheApp(aiCachePolicy());
    const send = (body: string) =>
      app.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
        body,
      });
    await send('{"model":"gpt-4o","messages":[{"role":"user","content":"x"}],"temperature":0}');
    const again = await send(
      '{ "temperature": 0,\n "messages": [ { "content": "x", "role": "user" } ], "user": "u1", "model": "gpt-4o" }',
    );
    expect(again.headers.get('cache-status')).toMatch(/hit/);
    expect(calls.count).toBe(1);
  });

  it('honours request Cache-Control: no-cache refreshes, no-store bypasses, max-age bounds age and sets TTL', async () => {
    const clock = manualClock();
    const { post, calls } = cacheApp(aiCachePolicy({ ttl: 3600, clock }));
    const bypassBefore = await results('bypass');
    await post(chat('cc'));
    const refreshed = await post(chat('cc'), { 'cache-control': 'no-cache' });
    expect(refreshed.headers.get('cache-status')).toBe('alchemist-perf; fwd=request; stored');
    expect(((await refreshed.json()) as { id: string }).id).toBe('chatcmpl-2');
    expect(((await (await post(chat('cc'))).json()) as { id: string }).id).toBe('chatcmpl-2');

    const bypassed = await post(chat('cc'), { 'cache-control': 'no-store' });
    expect(bypassed.headers.get('cache-status')).toBe('alchemist-perf; fwd=bypass; detail=no-store');
    expect(calls.count).toBe(3);
    const unstored = await post(chat('only-no-store'), { 'cache-control': 'no-store' });
    expect(unstored.headers.get('cache-status')).toMatch(/bypass/);
    expect((await post(chat('only-no-store'))).headers.get('cache-status')).toMatch(/fwd=miss/);

    clock.advance(30_000);
    const young = await post(chat('cc'), { 'cache-control': 'max-age=10' });
    expect(young.headers.get('cache-status')).toBe('alchemist-perf; fwd=request; stored');
    const shortTtl = await post(chat('cc'));
    expect(shortTtl.headers.get('cache-status')).toBe('alchemist-perf; hit; ttl=10');
    clock.advance(10_000);
    expect((await post(chat('cc'))).headers.get('cache-status')).toBe('alchemist-perf; fwd=miss; stored');
    expect(await results('bypass')).toBe(bypassBefore + 2);
  });

  it('never stores errors, non-2xx answers or no-store responses', async () => {
    let mode: 'throw' | '500' | '400' | 'no-store' | 'ok' = 'throw';
    const { post, calls } = cacheApp(aiCachePolicy(), async (ctx, n) => {
      if (mode === 'throw') throw new UpstreamError('boom', 500);
      if (mode === '500') return jsonResult({ error: { message: 'bad' } }, 500);
      if (mode === '400') return jsonResult({ error: { message: 'nope' } }, 400);
      if (mode === 'no-store') return jsonResult(answer(ctx, n), 200, { 'cache-control': 'no-store' });
      return jsonResult(answer(ctx, n));
    });
    for (const m of ['throw', '500', '400', 'no-store'] as const) {
      mode = m;
      const response = await post(chat(`never-${m}`));
      expect(response.headers.get('cache-status')).not.toMatch(/stored/);
      mode = 'ok';
      const next = await post(chat(`never-${m}`));
      expect(next.status).toBe(200);
      expect(next.headers.get('cache-status')).toBe('alchemist-perf; fwd=miss; stored');
    }
    expect(calls.count).toBe(8);
    const failed = cacheApp(aiCachePolicy(), async () => {
      throw new UpstreamError('boom', 503);
    });
    const error = await failed.post(chat('e'));
    expect(error.status).toBe(502);
    expect(error.headers.get('cache-status')).toBe('alchemist-perf; fwd=miss; fwd-status=502');
  });

  it("does not keep a fallback model's answer under the requested model's key", async () => {
    let fallback = true;
    const { post, calls } = cacheApp(aiCachePolicy(), async (ctx, n) => {
      if (fallback) ctx.decisions.fallbackModel = 'gpt-4o';
      return jsonResult(answer(ctx, n));
    });
    expect((await post(chat('fb'))).headers.get('cache-status')).toBe('alchemist-perf; fwd=miss');
    fallback = false;
    expect((await post(chat('fb'))).headers.get('cache-status')).toBe('alchemist-perf; fwd=miss; stored');
    expect(calls.count).toBe(2);
  });

  it('records a stream as it flows and replays it chunk for chunk, ending in [DONE]', async () => {
    const { post, calls } = cacheApp(aiCachePolicy());
    const savedBefore = await telemetry.sum('alchemist.cache.tokens_saved');
    const first = await post(chat('stream', { stream: true }));
    expect(first.headers.get('content-type')).toBe('text/event-stream');
    expect(first.headers.get('cache-status')).toBe('alchemist-perf; fwd=miss');
    const live = sseLines(await first.text());
    const replayed = await post(chat('stream', { stream: true }));
    expect(replayed.headers.get('cache-status')).toMatch(/^alchemist-perf; hit; ttl=\d+$/);
    expect(replayed.headers.get('content-type')).toBe('text/event-stream');
    const again = sseLines(await replayed.text());
    expect(again).toEqual(live);
    expect(again).toHaveLength(5);
    expect(again.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(again[3]!.slice(6)).usage).toEqual({ prompt_tokens: 5, completion_tokens: 7 });
    expect(calls.count).toBe(1);
    // The same request without streaming is a different answer shape: its own entry.
    expect((await post(chat('stream'))).headers.get('cache-status')).toMatch(/fwd=miss/);
    expect(await telemetry.sum('alchemist.cache.tokens_saved')).toBe(savedBefore + 12);
  });

  it('never stores a partial stream (upstream failed midway, or the client stopped reading)', async () => {
    let fail = true;
    const { post, calls } = cacheApp(aiCachePolicy(), async (ctx, n) =>
      streamResult(
        (async function* () {
          const [a, b, c, d] = chunksOf(ctx, n);
          yield a;
          yield b;
          if (fail) throw new UpstreamError('connection reset', 0);
          yield c;
          yield d;
        })(),
      ),
    );
    const broken = await post(chat('partial', { stream: true }));
    const text = await broken.text();
    expect(text).not.toContain('[DONE]');
    fail = false;
    const next = await post(chat('partial', { stream: true }));
    expect(next.headers.get('cache-status')).toBe('alchemist-perf; fwd=miss');

    // A reader that stops after the first chunk: the upstream stream is closed, nothing stored.
    const aborted = await post(chat('abandoned', { stream: true }));
    const reader = aborted.body!.getReader();
    await reader.read();
    await reader.cancel();
    await new Promise((resolve) => setImmediate(resolve));
    expect((await post(chat('abandoned', { stream: true }))).headers.get('cache-status')).toBe(
      'alchemist-perf; fwd=miss',
    );
    expect(calls.count).toBe(4);
  });

  it('serves a stale entry, marked stale, when the upstream fails within the stale-if-error window', async () => {
    const clock = manualClock();
    let failure: Error | undefined;
    const { post, calls } = cacheApp(aiCachePolicy({ ttl: 60, staleIfError: 300, clock }), async (ctx, n) => {
      if (failure) throw failure;
      return defaultUpstream(ctx, n);
    });
    const staleBefore = await results('stale');
    const fresh = await (await post(chat('s'))).json();
    clock.advance(90_000);
    failure = new CircuitOpenError('openai/gpt-4o-mini', { retryAfter: 5 });
    const stale = await post(chat('s'));
    expect(stale.status).toBe(200);
    expect(stale.headers.get('cache-status')).toBe(
      'alchemist-perf; fwd=stale; fwd-status=503; ttl=-30; detail=stale-if-error',
    );
    expect(await stale.json()).toEqual(fresh);
    failure = new UpstreamError('bad gateway', 502);
    expect((await post(chat('s'))).headers.get('cache-status')).toMatch(/detail=stale-if-error/);
    // A caller error is not an upstream failure: no stale answer for it.
    failure = new UpstreamError('invalid', 400);
    expect((await post(chat('s'))).status).toBe(400);
    // Beyond the window the entry is gone.
    clock.advance(300_000);
    failure = new UpstreamError('bad gateway', 502);
    expect((await post(chat('s'))).status).toBe(502);
    expect(await results('stale')).toBe(staleBefore + 2);
    expect(calls.count).toBe(5);
  });

  it('without stale-if-error, an expired entry is never served', async () => {
    const clock = manualClock();
    let fail = false;
    const { post } = cacheApp(aiCachePolicy({ ttl: 1, clock }), async (ctx, n) => {
      if (fail) throw new CircuitOpenError('x');
      return defaultUpstream(ctx, n);
    });
    await post(chat('nostale'));
    clock.advance(2000);
    fail = true;
    expect((await post(chat('nostale'))).status).toBe(503);
  });

  it('clears one tenant or everything, and reports stats', async () => {
    const policy = aiCachePolicy();
    const { post, calls } = cacheApp(policy);
    await post(chat('c'), { authorization: 'Bearer sk-a' });
    await post(chat('c'), { authorization: 'Bearer sk-b' });
    const { tenantForKey } = await import('../../src/core/identity.ts');
    await policy.clear(tenantForKey('sk-a'));
    expect((await post(chat('c'), { authorization: 'Bearer sk-a' })).headers.get('cache-status')).toMatch(
      /miss/,
    );
    expect((await post(chat('c'), { authorization: 'Bearer sk-b' })).headers.get('cache-status')).toMatch(
      /hit/,
    );
    expect(policy.stats()).toMatchObject({
      requests: { hit: 1, miss: 3, stale: 0, bypass: 0, coalesced: 0, error: 0 },
      hitRate: 0.25,
      inFlight: 0,
      memory: { entries: 2 },
    });
    await policy.clear();
    expect(policy.stats().memory?.entries).toBe(0);
    expect(calls.count).toBe(3);
  });

  it('counts a failing store as error and still answers', async () => {
    const broken: CacheStore = {
      layer: 'redis',
      get: () => Promise.reject(new Error('down')),
      set: () => Promise.reject(new Error('down')),
      delete: async () => {},
      clear: async () => {},
    };
    const { post } = cacheApp(aiCachePolicy({ store: broken }));
    const errorsBefore = await results('error', 'redis');
    const response = await post(chat('x'));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-status')).toBe('alchemist-perf; fwd=miss; detail=store-unavailable');
    expect(await results('error', 'redis')).toBe(errorsBefore + 1);
  });

  it('validates options, naming the bad value', () => {
    expect(() => aiCachePolicy({ ttl: -1 })).toThrow(/ttl must be a number of seconds >= 0, got -1/);
    expect(() => aiCachePolicy({ staleIfError: Number.NaN })).toThrow(/staleIfError/);
    expect(() => aiCachePolicy({ maxMemoryItems: 0 })).toThrow(
      /maxMemoryItems must be an integer >= 1, got 0/,
    );
    expect(() => aiCachePolicy({ ttlByRoute: { '/v1/x': -5 } })).toThrow(/ttlByRoute\["\/v1\/x"\]/);
    expect(() => aiCachePolicy({ namespace: 'a b' })).toThrow(/namespace/);
    expect(() => aiCachePolicy({ store: memoryStore(), redis: 'redis://x' })).toThrow(/either/);
  });

  it('uses a per-route TTL and a custom key (undefined = bypass)', async () => {
    const clock = manualClock();
    const policy = aiCachePolicy({
      ttl: 3600,
      ttlByRoute: { '/v1/chat/completions': 5 },
      clock,
      key: (ctx) =>
        ctx.request.temperature === 1
          ? undefined
          : String((ctx.request.messages as { content: string }[])[0]?.content).toLowerCase(),
    });
    const { post, calls } = cacheApp(policy);
    await post(chat('Hello'));
    const hit = await post(chat('HELLO', { max_tokens: 3 }));
    expect(hit.headers.get('cache-status')).toBe('alchemist-perf; hit; ttl=5');
    expect((await post(chat('hello', { temperature: 1 }))).headers.get('cache-status')).toBe(
      'alchemist-perf; fwd=bypass; detail=no-key',
    );
    expect(calls.count).toBe(2);
  });
});

describe('coalescing', () => {
  /** A memory store that opens `gate` once `n` lookups have happened (all callers are in). */
  function gatedStore(n: number) {
    const inner = memoryStore();
    let lookups = 0;
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const store: CacheStore = {
      ...inner,
      layer: 'memory',
      async get(key) {
        const found = await inner.get(key);
        if (++lookups === n) setImmediate(open);
        return found;
      },
    };
    return { store, gate };
  }

  it('20 identical concurrent requests with a slow upstream: 1 upstream call, 20 correct answers', async () => {
    const { store, gate } = gatedStore(20);
    const policy = aiCachePolicy({ store });
    const { post, calls } = cacheApp(policy, async (ctx, n) => {
      await gate;
      return jsonResult(answer(ctx, n));
    });
    const coalescedBefore = await results('coalesced');
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(chat('coalesce'))));
    const bodies = await Promise.all(responses.map((r) => r.json()));
    expect(calls.count).toBe(1);
    for (const body of bodies) expect(body).toEqual(bodies[0]);
    expect((bodies[0] as { id: string }).id).toBe('chatcmpl-1');
    const statuses = responses.map((r) => r.headers.get('cache-status'));
    expect(statuses.filter((s) => s === 'alchemist-perf; fwd=miss; collapsed')).toHaveLength(19);
    expect(statuses.filter((s) => s === 'alchemist-perf; fwd=miss; stored')).toHaveLength(1);
    expect(await results('coalesced')).toBe(coalescedBefore + 19);
    expect(policy.stats().inFlight).toBe(0);
  });

  it('20 identical concurrent streaming requests: 1 upstream call, 20 full streams', async () => {
    const { store, gate } = gatedStore(20);
    const { post, calls } = cacheApp(aiCachePolicy({ store }), async (ctx, n) =>
      streamResult(
        (async function* () {
          for (const chunk of chunksOf(ctx, n)) {
            await gate;
            yield chunk;
          }
        })(),
      ),
    );
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(chat('cs', { stream: true }))));
    const texts = await Promise.all(responses.map((r) => r.text()));
    expect(calls.count).toBe(1);
    for (const text of texts) {
      expect(sseLines(text)).toEqual(sseLines(texts[0]!));
      expect(sseLines(text)).toHaveLength(5);
      expect(text.trim().endsWith('data: [DONE]')).toBe(true);
    }
    for (const r of responses) expect(r.headers.get('content-type')).toBe('text/event-stream');
    expect((await post(chat('cs', { stream: true }))).headers.get('cache-status')).toMatch(/hit/);
  });

  it('followers get the leader error; the next call goes upstream again', async () => {
    const { store, gate } = gatedStore(5);
    let fail = true;
    const { post, calls } = cacheApp(aiCachePolicy({ store }), async (ctx, n) => {
      await gate;
      if (fail) throw new UpstreamError('overloaded', 529);
      return jsonResult(answer(ctx, n));
    });
    const responses = await Promise.all(Array.from({ length: 5 }, () => post(chat('err'))));
    expect(responses.map((r) => r.status)).toEqual([502, 502, 502, 502, 502]);
    expect(calls.count).toBe(1);
    fail = false;
    expect((await post(chat('err'))).status).toBe(200);
    expect(calls.count).toBe(2);
  });
});
