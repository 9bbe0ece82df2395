import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallContext } from '../../src/core/context.ts';
import { isRateLimitedError, type RateLimitedError, UpstreamError } from '../../src/core/errors.ts';
import type { AiResult } from '../../src/core/result.ts';
import { jsonResult } from '../../src/core/result.ts';
import { aiContext } from '../../src/hono/context.ts';
import { aiHandler } from '../../src/hono/handler.ts';
import { aiRateLimit } from '../../src/hono/ratelimit.ts';
import { tierRateLimitPolicy } from '../../src/ratelimit/tier-policy.ts';
import { countText, estimateTokens, loadTokenizer } from '../../src/ratelimit/tokens.ts';
import { withRateLimit } from '../../src/wrap/ratelimit.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { ctxFor, drain, jsonUpstream, manualClock, streamUpstream } from './helpers.ts';

// Exact counts in these tests: load the tokenizer the policies otherwise load on first need.
await loadTokenizer();

const telemetry = useTestTelemetry();

async function rejection(promise: Promise<unknown>): Promise<RateLimitedError> {
  try {
    await promise;
  } catch (error) {
    if (isRateLimitedError(error)) return error;
    throw error;
  }
  throw new Error('expected a RateLimitedError');
}

const messages = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Name three primary colours.' },
];

describe('tierRateLimitPolicy: requests', () => {
  it('admits a burst, then exactly the steady rate, with exact headers and Retry-After', async () => {
    const clock = manualClock();
    const policy = tierRateLimitPolicy({ tiers: { free: { requestsPerMinute: 60, burst: 5 } }, clock });
    const upstream = jsonUpstream();
    const run = () => {
      const ctx = ctxFor();
      return policy.execute(ctx, upstream.call).then(() => ctx);
    };
    const first = await run();
    expect(first.decisions.headers).toEqual({
      'RateLimit-Policy': '"requests";q=60;w=60',
      RateLimit: '"requests";r=4;t=1',
    });
    for (let i = 0; i < 4; i++) await run();
    const denied = await rejection(run());
    expect(denied.scope).toBe('tier');
    expect(denied.status).toBe(429);
    expect(denied.retryAfter).toBe(1);
    expect(denied.headers).toEqual({
      'RateLimit-Policy': '"requests";q=60;w=60',
      RateLimit: '"requests";r=0;t=5',
    });
    expect(denied.responseHeaders()['retry-after']).toBe('1');

    // Steady rate: one per second, never two.
    for (let second = 0; second < 10; second++) {
      clock.advance(1000);
      await run();
      await rejection(run());
    }
    // Idle long enough: the burst is back, but no more than the burst.
    clock.advance(60_000);
    for (let i = 0; i < 5; i++) await run();
    await rejection(run());
    expect(upstream.calls).toHaveLength(5 + 10 + 5);
  });

  it('keeps callers apart and sends unknown tiers to the default tier', async () => {
    const clock = manualClock();
    const policy = tierRateLimitPolicy({
      tiers: { free: { requestsPerMinute: 1 }, pro: { requestsPerMinute: 3 } },
      defaultTier: 'free',
      clock,
    });
    const { call } = jsonUpstream();
    await policy.execute(ctxFor({ tenant: 'alice', tier: 'nonsense' }), call);
    await rejection(policy.execute(ctxFor({ tenant: 'alice', tier: 'nonsense' }), call));
    await policy.execute(ctxFor({ tenant: 'bob', tier: 'free' }), call);
    for (let i = 0; i < 3; i++) await policy.execute(ctxFor({ tenant: 'carol', tier: 'pro' }), call);
    await rejection(policy.execute(ctxFor({ tenant: 'carol', tier: 'pro' }), call));
  });

  it('scales every limit by the multiplier, from the option or RATE_LIMIT_MULTIPLIER', async () => {
    const clock = manualClock();
    const halved = tierRateLimitPolicy({
      tiers: { free: { requestsPerMinute: 10, tokensPerMinute: 1000, maxConcurrent: 4 } },
      multiplier: 0.5,
      clock,
    });
    const ctx = ctxFor({ request: { messages, max_tokens: 10 } });
    await halved.execute(ctx, jsonUpstream().call);
    expect(ctx.decisions.headers['RateLimit-Policy']).toBe('"requests";q=5;w=60, "tokens";q=500;w=60');
    // Requests without max_tokens reserve defaultOutputTokens (capped at the bucket): ask for none.
    const small = () => ctxFor({ request: { max_tokens: 0 } });
    for (let i = 0; i < 4; i++) await halved.execute(small(), jsonUpstream().call);
    expect((await rejection(halved.execute(small(), jsonUpstream().call))).retryAfter).toBe(12);

    process.env.RATE_LIMIT_MULTIPLIER = '2';
    try {
      const doubled = tierRateLimitPolicy({ tiers: { free: { requestsPerMinute: 10 } }, clock });
      const ctx2 = ctxFor();
      await doubled.execute(ctx2, jsonUpstream().call);
      expect(ctx2.decisions.headers['RateLimit-Policy']).toBe('"requests";q=20;w=60');
    } finally {
      delete process.env.RATE_LIMIT_MULTIPLIER;
    }
  });

  it('validates options, naming the bad value', () => {
    expect(() => tierRateLimitPolicy({ tiers: {} })).toThrow(/tiers must name at least one tier/);
    expect(() => tierRateLimitPolicy({ tiers: { free: { requestsPerMinute: -1 } } })).toThrow(
      /tiers\.free\.requestsPerMinute must be a positive number, got -1/,
    );
    expect(() => tierRateLimitPolicy({ tiers: { free: {}, pro: {} } })).toThrow(/defaultTier is required/);
    expect(() => tierRateLimitPolicy({ tiers: { free: {} }, defaultTier: 'gold' })).toThrow(
      /"gold" is not one/,
    );
    expect(() => tierRateLimitPolicy({ tiers: { free: { maxConcurrent: 1.5 } } })).toThrow(
      /positive integer, got 1.5/,
    );
    expect(() => tierRateLimitPolicy({ tiers: { free: {} }, multiplier: 0 })).toThrow(/multiplier/);
  });
});

describe('tierRateLimitPolicy: tokens', () => {
  const request = { model: 'gpt-4o', messages, max_tokens: 100 };
  const estimate = estimateTokens(request, 1024);
  const reserved = estimate.input + estimate.output;
  const setup = () => {
    const clock = manualClock();
    const policy = tierRateLimitPolicy({ tiers: { free: { tokensPerMinute: 10_000 } }, clock });
    /** Tokens left, read through a probe reservation that is refunded at once. */
    const remaining = async () => {
      const ctx = ctxFor({ request: { messages: [], max_tokens: 0 } });
      await policy
        .execute(ctx, async () => {
          throw new UpstreamError('probe', 500);
        })
        .catch(() => {});
      return Number(/"tokens";r=(\d+)/.exec(ctx.decisions.headers.RateLimit ?? '')?.[1]);
    };
    return { clock, policy, remaining };
  };

  it('reserves the estimate (real tokenizer + max_tokens) and settles on reported usage', async () => {
    expect(estimate.input).toBeGreaterThan(10);
    expect(estimate.output).toBe(100);
    const { policy, remaining } = setup();
    const ctx = ctxFor({ request });
    let duringCall = 0;
    await policy.execute(ctx, async (inner) => {
      duringCall = Number(/"tokens";r=(\d+)/.exec(inner.decisions.headers.RateLimit ?? '')?.[1]);
      inner.decisions.upstreamAttempts++;
      return jsonResult({ usage: { prompt_tokens: 20, completion_tokens: 7 } });
    });
    expect(duringCall).toBe(10_000 - reserved);
    // JSON answers settle before returning: the headers already show the settled level.
    expect(ctx.decisions.headers.RateLimit).toBe(`"tokens";r=${10_000 - 27};t=1`);
    expect(await remaining()).toBe(10_000 - 27);
  });

  it('settles a stream at its end, from the final chunk usage or by counting', async () => {
    const { policy, remaining } = setup();
    const result = await policy.execute(
      ctxFor({ request }),
      streamUpstream(3, { prompt_tokens: 30, completion_tokens: 3 }),
    );
    expect(await remaining()).toBe(10_000 - reserved); // still reserved while the stream is open
    await drain(result);
    expect(await remaining()).toBe(10_000 - 33);

    const unreported = await policy.execute(ctxFor({ request }), streamUpstream(4));
    await drain(unreported);
    const counted = estimate.input + countText('word word word word ');
    expect(await remaining()).toBe(10_000 - 33 - counted);
  });

  it('refunds a failed call and a cache hit in full', async () => {
    const { policy, remaining } = setup();
    await expect(
      policy.execute(ctxFor({ request }), async () => {
        throw new UpstreamError('boom', 500);
      }),
    ).rejects.toThrow('boom');
    expect(await remaining()).toBe(10_000);

    await policy.execute(ctxFor({ request }), async (ctx: CallContext): Promise<AiResult> => {
      ctx.decisions.cacheResult = 'hit';
      return jsonResult({ usage: { prompt_tokens: 500, completion_tokens: 500 } });
    });
    expect(await remaining()).toBe(10_000);
  });

  it('rejects a call whose estimate does not fit, with Retry-After for the missing tokens', async () => {
    const clock = manualClock();
    const policy = tierRateLimitPolicy({ tiers: { free: { tokensPerMinute: 600 } }, clock });
    const big = { messages, max_tokens: 600 - estimate.input }; // exactly the whole bucket
    await policy.execute(ctxFor({ request: big }), async () =>
      jsonResult({ usage: { prompt_tokens: 600, completion_tokens: 0 } }),
    );
    const denied = await rejection(
      policy.execute(ctxFor({ request: { messages, max_tokens: 0 } }), async () => jsonResult({})),
    );
    // 600 tokens per minute = 10 per second; `estimate.input` tokens are missing.
    expect(denied.retryAfter).toBe(Math.ceil(estimate.input / 10));
  });
});

describe('tierRateLimitPolicy: concurrency', () => {
  it('caps calls in flight per caller; a stream holds its slot until it ends', async () => {
    const policy = tierRateLimitPolicy({ tiers: { free: { maxConcurrent: 2 } }, clock: manualClock() });
    const a = await policy.execute(ctxFor(), streamUpstream(2));
    const b = await policy.execute(ctxFor(), streamUpstream(2));
    const denied = await rejection(policy.execute(ctxFor(), streamUpstream(2)));
    expect(denied.scope).toBe('concurrency');
    expect(denied.code).toBe('rate_limited_concurrency');
    expect(denied.retryAfter).toBe(1);
    await policy.execute(ctxFor({ tenant: 'bob' }), streamUpstream(1)).then(drain); // others unaffected
    await drain(a);
    await drain(await policy.execute(ctxFor(), streamUpstream(2)));
    await drain(b);
  });

  it('frees the slot when the caller aborts a stream nobody reads', async () => {
    const policy = tierRateLimitPolicy({ tiers: { free: { maxConcurrent: 1 } }, clock: manualClock() });
    const controller = new AbortController();
    await policy.execute(ctxFor({ signal: controller.signal }), streamUpstream(2));
    await rejection(policy.execute(ctxFor(), streamUpstream(1)));
    controller.abort();
    await Promise.resolve();
    await drain(await policy.execute(ctxFor(), streamUpstream(1)));
  });

  it('frees the slot when the call fails', async () => {
    const policy = tierRateLimitPolicy({ tiers: { free: { maxConcurrent: 1 } }, clock: manualClock() });
    await expect(
      policy.execute(ctxFor(), async () => {
        throw new UpstreamError('x', 502);
      }),
    ).rejects.toThrow();
    await policy.execute(ctxFor(), jsonUpstream().call);
  });
});

describe('skins', () => {
  afterEach(() => telemetry.reset());

  const app = (limits: ReturnType<typeof aiRateLimit>) => {
    const hono = new Hono();
    hono.use('/v1/*', aiContext({ defaultTier: 'free' }), limits);
    hono.post(
      '/v1/chat/completions',
      aiHandler(async () => jsonResult({ choices: [{ message: { content: 'hi' } }] })),
    );
    return hono;
  };
  const post = (hono: Hono) =>
    hono.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-key-1' },
      body: JSON.stringify({ model: 'gpt-4o', messages }),
    });

  it('aiRateLimit sets RateLimit headers on 200 and 429, Retry-After and an OpenAI error body on 429', async () => {
    const clock = manualClock();
    const limits = aiRateLimit({ tiers: { free: { requestsPerMinute: 2 } }, clock });
    const hono = app(limits);
    const match = { 'alchemist.ratelimit.result': 'rejected', 'alchemist.ratelimit.scope': 'tier' };
    const before = await telemetry.sum('alchemist.ratelimit.requests', match);
    const ok = await post(hono);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('ratelimit-policy')).toBe('"requests";q=2;w=60');
    expect(ok.headers.get('ratelimit')).toBe('"requests";r=1;t=30');
    await post(hono);
    const limited = await post(hono);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('30');
    expect(limited.headers.get('ratelimit')).toBe('"requests";r=0;t=60');
    expect(limited.headers.get('ratelimit-policy')).toBe('"requests";q=2;w=60');
    expect(await limited.json()).toEqual({
      error: {
        message: "Rate limit exceeded for tier 'free'",
        type: 'rate_limit_error',
        code: 'rate_limited_tier',
      },
    });
    expect(limits.state()).toEqual({ mode: 'local', degraded: false });

    expect(await telemetry.sum('alchemist.ratelimit.requests', match)).toBe(before + 1);
    const rejected = await telemetry.points('alchemist.ratelimit.requests', match);
    // The caller (tenant) is never a metric attribute.
    expect(rejected[0]!.attributes).toEqual({
      'alchemist.ratelimit.result': 'rejected',
      'alchemist.ratelimit.scope': 'tier',
      'alchemist.tier': 'free',
      'gen_ai.request.model': 'gpt-4o',
    });
    const span = telemetry
      .spans()
      .find((s) => s.attributes['alchemist.ratelimit.tier.result'] === 'rejected');
    expect(span?.attributes).toMatchObject({
      'alchemist.ratelimit.tier.requests.remaining': 0,
      'alchemist.ratelimit.mode': 'local',
    });
  });

  it('withRateLimit rejects the wrapped call with RateLimitedError and keeps streams as streams', async () => {
    const limited = withRateLimit(
      async (request: { model: string; stream?: boolean }) =>
        request.stream
          ? (async function* () {
              yield { choices: [{ delta: { content: 'a' } }] };
            })()
          : { ok: true },
      { tiers: { free: { requestsPerMinute: 2 } }, tier: 'free', tenant: 'team-a', clock: manualClock() },
    );
    expect(await limited({ model: 'gpt-4o' })).toEqual({ ok: true });
    const stream = (await limited({ model: 'gpt-4o', stream: true })) as AsyncIterable<unknown>;
    const chunks: unknown[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks).toHaveLength(1);
    const error = await rejection(limited({ model: 'gpt-4o' }));
    expect(error.headers.RateLimit).toBe('"requests";r=0;t=60');
    expect(await limited({ model: 'gpt-4o' }, { tenant: 'team-b' })).toEqual({ ok: true });
  });
});
