import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { HEADER_BUDGET_REMAINING } from '../../src/budget/attributes.ts';
import { budgetPolicy } from '../../src/budget/policy.ts';
import type { CallContext } from '../../src/core/context.ts';
import { type BudgetExceededError, isBadRequestError, isBudgetExceededError } from '../../src/core/errors.ts';
import type { AiResult } from '../../src/core/result.ts';
import { jsonResult, streamResult } from '../../src/core/result.ts';
import { aiBudget } from '../../src/hono/budget.ts';
import { aiContext } from '../../src/hono/context.ts';
import { aiHandler } from '../../src/hono/handler.ts';
import { estimateInputTokens, loadTokenizer } from '../../src/ratelimit/tokens.ts';
import { withBudget } from '../../src/wrap/budget.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { ctxFor, drain, manualClock } from '../ratelimit/helpers.ts';
import { chat, DEC_1_10AM, MODEL } from './helpers.ts';

await loadTokenizer();
const telemetry = useTestTelemetry();

/** An upstream answering JSON with exact usage. */
function answering(input: number, output: number) {
  return async (ctx: CallContext): Promise<AiResult> => {
    ctx.decisions.upstreamAttempts++;
    return jsonResult({
      model: ctx.model,
      choices: [{ message: { content: 'ok' } }],
      usage: { prompt_tokens: input, completion_tokens: output },
    });
  };
}

async function rejection(promise: Promise<unknown>): Promise<BudgetExceededError> {
  try {
    await promise;
  } catch (error) {
    if (isBudgetExceededError(error)) return error;
    throw error;
  }
  throw new Error('expected a BudgetExceededError');
}

const request = chat('Name three primary colours.', 4);
const promptTokens = estimateInputTokens(request);
/** The reservation of `request` in USD: prompt at $1, 4 output tokens at $2. */
const estimateUsd = promptTokens + 8;

describe('budgetPolicy: admission and settlement', () => {
  it('admits while spent + the estimate fits, settles on actual usage, then rejects until UTC midnight', async () => {
    const clock = manualClock(DEC_1_10AM);
    // Room for two settled calls of $5 and the third's estimate only if it fits.
    const budgetUsd = 10 + estimateUsd - 1;
    const policy = budgetPolicy({ tiers: { free: { budgetUsd, period: 'day' } }, clock });
    const run = () => policy.execute(ctxFor({ model: MODEL, request }), answering(3, 1));
    await run(); // $3 + $2 = $5
    await run(); // $10
    const denied = await rejection(run());
    expect(denied.status).toBe(429);
    // Until 2026-12-02T00:00:00Z: 14 hours.
    expect(denied.retryAfter).toBe(14 * 3600);
    expect(denied.responseHeaders()['retry-after']).toBe(String(14 * 3600));
    expect(denied.toBody()).toEqual({
      error: {
        type: 'insufficient_quota',
        code: 'budget_exceeded',
        message: `Budget exceeded: $${budgetUsd} per day, $10.000000 spent and $0.000000 reserved, this call needs up to $${estimateUsd.toFixed(6)}; it resets at 2026-12-02T00:00:00.000Z`,
      },
    });
    const [status] = await policy.report([{ tenant: 'alice', tier: 'free' }]);
    expect(status).toEqual({
      tenant: 'alice',
      tier: 'free',
      budgetUsd,
      spentUsd: 10,
      reservedUsd: 0,
      period: 'day',
      resetsAt: '2026-12-02T00:00:00.000Z',
    });
    // One millisecond before midnight: still over; at midnight the new day starts from 0.
    clock.advance(14 * 3600 * 1000 - 1);
    expect((await rejection(run())).retryAfter).toBe(1);
    clock.advance(1);
    await run();
    expect((await policy.report([{ tenant: 'alice', tier: 'free' }]))[0]).toMatchObject({
      spentUsd: 5,
      resetsAt: '2026-12-03T00:00:00.000Z',
    });
  });

  it('rolls a monthly budget over at the end of the month, Retry-After until then', async () => {
    const clock = manualClock(Date.UTC(2026, 11, 31, 23, 59, 30));
    const policy = budgetPolicy({ tiers: { free: { budgetUsd: estimateUsd, period: 'month' } }, clock });
    const run = () => policy.execute(ctxFor({ model: MODEL, request }), answering(promptTokens, 4));
    await run();
    const denied = await rejection(run());
    expect(denied.retryAfter).toBe(30);
    expect(denied.message).toContain('it resets at 2027-01-01T00:00:00.000Z');
    clock.advance(30_000);
    await run();
    expect((await policy.report([{ tenant: 'alice', tier: 'free' }]))[0]).toMatchObject({
      spentUsd: estimateUsd,
      period: 'month',
      resetsAt: '2027-02-01T00:00:00.000Z',
    });
  });

  it('refunds a call that failed before producing anything, and a call the cache answered', async () => {
    const clock = manualClock(DEC_1_10AM);
    const policy = budgetPolicy({ tiers: { free: { budgetUsd: 100 } }, clock });
    await expect(
      policy.execute(ctxFor({ model: MODEL, request }), async () => {
        throw new Error('connection reset');
      }),
    ).rejects.toThrow('connection reset');
    // The cache (inside the budget here) answered: nothing reached the provider.
    await policy.execute(ctxFor({ model: MODEL, request }), async (ctx) => {
      ctx.decisions.cacheResult = 'hit';
      return jsonResult({ choices: [], usage: { prompt_tokens: 50, completion_tokens: 50 } });
    });
    expect((await policy.report([{ tenant: 'alice', tier: 'free' }]))[0]).toMatchObject({
      spentUsd: 0,
      reservedUsd: 0,
    });
  });

  it('holds reservations of calls in flight against the budget, and releases them at settlement', async () => {
    const policy = budgetPolicy({
      tiers: { free: { budgetUsd: estimateUsd * 2 } },
      clock: manualClock(DEC_1_10AM),
    });
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = policy.execute(ctxFor({ model: MODEL, request }), async (ctx) => {
      await held;
      return answering(1, 0)(ctx);
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect((await policy.report())[0]).toMatchObject({ spentUsd: 0, reservedUsd: estimateUsd });
    await policy.execute(ctxFor({ model: MODEL, request }), answering(1, 0));
    // $1 spent + one estimate held: a third estimate does not fit.
    await rejection(policy.execute(ctxFor({ model: MODEL, request }), answering(1, 0)));
    release();
    await slow;
    expect((await policy.report())[0]).toMatchObject({ spentUsd: 2, reservedUsd: 0 });
    await policy.execute(ctxFor({ model: MODEL, request }), answering(1, 0));
  });

  it("uses a tenant's own budget over its tier's, with the tier's period", async () => {
    const policy = budgetPolicy({
      tiers: { free: { budgetUsd: 1000, period: 'day' } },
      tenants: { bob: { budgetUsd: 0 } },
      clock: manualClock(DEC_1_10AM),
    });
    await rejection(policy.execute(ctxFor({ model: MODEL, request, tenant: 'bob' }), answering(1, 1)));
    await policy.execute(ctxFor({ model: MODEL, request, tenant: 'alice' }), answering(1, 1));
    expect(await policy.report()).toEqual([
      expect.objectContaining({ tenant: 'alice', budgetUsd: 1000, spentUsd: 3 }),
      expect.objectContaining({ tenant: 'bob', budgetUsd: 0, spentUsd: 0, period: 'day' }),
    ]);
  });

  it('leaves callers of tiers without a budget alone', async () => {
    const policy = budgetPolicy({ tiers: { free: { budgetUsd: 0 }, pro: {} } });
    const result = await policy.execute(ctxFor({ model: 'no-price-anywhere', tier: 'pro' }), answering(1, 1));
    expect(result.status).toBe(200);
    expect(await policy.report()).toEqual([]);
  });

  it('refuses a budgeted call to a model with no known price (400), unless a default price is set', async () => {
    const strict = budgetPolicy({ tiers: { free: { budgetUsd: 10 } } });
    const error = await strict
      .execute(ctxFor({ model: 'mystery-model', request }), answering(1, 1))
      .catch((e: unknown) => e);
    expect(isBadRequestError(error)).toBe(true);
    expect((error as BadRequest).toBody().error).toEqual({
      type: 'invalid_request_error',
      code: 'model_not_priced',
      message:
        "Model 'mystery-model' has no known price, and budgets need one: set its input_price and output_price",
    });
    const priced = budgetPolicy({
      tiers: { free: { budgetUsd: 100 } },
      defaultPrice: { input: 1_000_000, output: 1_000_000 },
    });
    await priced.execute(ctxFor({ model: 'mystery-model', request }), answering(2, 3));
    expect((await priced.report())[0]).toMatchObject({ spentUsd: 5 });
  });

  it('validates its options, naming the bad one', () => {
    expect(() => budgetPolicy({ tiers: { free: { budgetUsd: -1 } } })).toThrow(
      'BudgetOptions.tiers.free.budgetUsd must be a number >= 0, got -1',
    );
    expect(() => budgetPolicy({ tiers: { free: { budgetUsd: 1, period: 'week' as 'day' } } })).toThrow(
      'BudgetOptions.tiers.free.period must be "day" or "month", got "week"',
    );
    expect(() => budgetPolicy({ tiers: { free: {} }, alertAt: 2 })).toThrow(
      'BudgetOptions.alertAt must be between 0 and 1, got 2',
    );
  });
});

type BadRequest = { toBody(): { error: Record<string, string> } };

describe('budgetPolicy: streams', () => {
  it('settles a stream on its final usage chunk', async () => {
    const policy = budgetPolicy({ tiers: { free: { budgetUsd: 1000 } }, clock: manualClock(DEC_1_10AM) });
    const result = await policy.execute(ctxFor({ model: MODEL, request, stream: true }), async () =>
      streamResult(
        (async function* () {
          yield { choices: [{ delta: { content: 'red ' } }] };
          yield { choices: [{ delta: { content: 'green blue' } }] };
          yield { choices: [], usage: { prompt_tokens: 7, completion_tokens: 3 } };
        })(),
      ),
    );
    // Not settled before the stream ends: the estimate is still held.
    expect((await policy.report())[0]).toMatchObject({ spentUsd: 0, reservedUsd: estimateUsd });
    await drain(result);
    await new Promise((resolve) => setImmediate(resolve));
    expect((await policy.report())[0]).toMatchObject({ spentUsd: 7 + 6, reservedUsd: 0 });
  });

  it('charges an abandoned stream for what it produced: the prompt and the output counted so far', async () => {
    const policy = budgetPolicy({ tiers: { free: { budgetUsd: 1000 } }, clock: manualClock(DEC_1_10AM) });
    const result = await policy.execute(ctxFor({ model: MODEL, request, stream: true }), async () =>
      streamResult(
        (async function* () {
          yield { choices: [{ delta: { content: 'red' } }] };
          yield { choices: [{ delta: { content: ' green' } }] };
          yield { choices: [{ delta: { content: ' never read' } }] };
        })(),
      ),
    );
    if (result.kind !== 'stream') throw new Error('expected a stream');
    const iterator = result.chunks[Symbol.asyncIterator]();
    await iterator.next();
    await iterator.next();
    await iterator.return?.();
    await new Promise((resolve) => setImmediate(resolve));
    // "red green" is 2 output tokens at $2; the prompt is charged at its estimate.
    expect((await policy.report())[0]).toMatchObject({ spentUsd: promptTokens + 4, reservedUsd: 0 });
  });
});

describe('budgetPolicy: telemetry and the soft threshold', () => {
  it('records decisions and spend by tier, the remaining budget on the span, a threshold event and header', async () => {
    telemetry.reset();
    const clock = manualClock(DEC_1_10AM);
    const policy = budgetPolicy({ tiers: { gold: { budgetUsd: 100, period: 'day' } }, clock, alertAt: 0.5 });
    const tracer = telemetry.tracerProvider.getTracer('test');
    const call = async () => {
      const span = tracer.startSpan('request');
      const ctx = ctxFor({ model: MODEL, tier: 'gold', span, request: chat('Hi', 10) });
      try {
        await policy.execute(ctx, answering(30, 0));
      } finally {
        span.end();
      }
      return ctx;
    };
    const first = await call(); // $30 spent: under half
    expect(first.decisions.headers[HEADER_BUDGET_REMAINING]).toBeUndefined();
    const second = await call(); // $60 spent: past half
    expect(second.decisions.headers[HEADER_BUDGET_REMAINING]).toBe('40.000000');
    const spans = telemetry.spans();
    const last = spans[spans.length - 1]!;
    expect(last.attributes['alchemist.budget.result']).toBe('allowed');
    expect(last.attributes['alchemist.budget.remaining_usd']).toBe(40);
    expect(last.attributes['alchemist.budget.settled_usd']).toBe(30);
    expect(last.events.map((e) => e.name)).toEqual(['alchemist.budget.threshold']);
    expect(spans[0]!.events).toEqual([]);
    await call(); // $90
    await rejection(call()); // $90 + the prompt's estimate (> $10) > $100
    expect(await telemetry.sum('alchemist.budget.spent', { 'alchemist.tier': 'gold' })).toBe(90);
    expect(
      await telemetry.sum('alchemist.budget.requests', {
        'alchemist.tier': 'gold',
        'alchemist.budget.result': 'allowed',
      }),
    ).toBe(3);
    expect(
      await telemetry.sum('alchemist.budget.requests', {
        'alchemist.tier': 'gold',
        'alchemist.budget.result': 'rejected',
      }),
    ).toBe(1);
    expect(await telemetry.gauge('alchemist.budget.utilization', { 'alchemist.tier': 'gold' })).toBe(0.9);
    // A new day: the gauge reads 0 without any traffic.
    clock.advance(14 * 3600 * 1000);
    expect(await telemetry.gauge('alchemist.budget.utilization', { 'alchemist.tier': 'gold' })).toBe(0);
    // No tenant on any metric point.
    for (const name of [
      'alchemist.budget.spent',
      'alchemist.budget.requests',
      'alchemist.budget.utilization',
    ]) {
      for (const point of await telemetry.points(name))
        expect(Object.keys(point.attributes)).not.toContain('alchemist.tenant');
    }
  });
});

describe('skins', () => {
  it('aiBudget answers 429 insufficient_quota with Retry-After until the period ends', async () => {
    const policy = budgetPolicy({
      tiers: { free: { budgetUsd: 0, period: 'day' } },
      clock: manualClock(DEC_1_10AM),
    });
    const app = new Hono();
    app.use('/v1/*', aiContext({ identify: () => ({ tenant: 'alice', tier: 'free' }) }));
    app.use('/v1/*', aiBudget({ policy }));
    app.post(
      '/v1/chat/completions',
      aiHandler(async () => jsonResult({ choices: [] })),
    );
    const response = await app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe(String(14 * 3600));
    expect(response.headers.get(HEADER_BUDGET_REMAINING)).toBe('0.000000');
    const body = (await response.json()) as { error: Record<string, string> };
    expect(body.error.type).toBe('insufficient_quota');
    expect(body.error.code).toBe('budget_exceeded');
  });

  it('aiBudget after aiCache: a cached answer is served to a tenant over budget', async () => {
    const { aiCache } = await import('../../src/hono/cache.ts');
    const policy = budgetPolicy({
      tiers: { free: { budgetUsd: estimateUsd, period: 'day' } },
      clock: manualClock(DEC_1_10AM),
    });
    const app = new Hono();
    let calls = 0;
    app.use('/v1/*', aiContext({ identify: () => ({ tenant: 'alice', tier: 'free' }) }));
    app.use('/v1/*', aiCache({ ttl: 60 }), aiBudget({ policy }));
    app.post(
      '/v1/chat/completions',
      aiHandler(async () => {
        calls++;
        return jsonResult({ choices: [], usage: { prompt_tokens: estimateUsd, completion_tokens: 0 } });
      }),
    );
    const post = (payload: unknown) =>
      app.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
      });
    expect((await post(request)).status).toBe(200); // spends the whole budget
    const hit = await post(request);
    expect(hit.status).toBe(200);
    expect(hit.headers.get('cache-status')).toMatch(/; hit/);
    expect((await post(chat('Something new.', 4))).status).toBe(429);
    expect(calls).toBe(1);
  });

  it('withBudget rejects over budget and reports spend', async () => {
    const create = withBudget(
      async () => ({
        choices: [{ message: { content: 'hi' } }],
        usage: { prompt_tokens: 2, completion_tokens: 1 },
      }),
      {
        tiers: { free: { budgetUsd: estimateUsd + 4 } },
        tenant: 'team-a',
        tier: 'free',
        clock: manualClock(DEC_1_10AM),
      },
    );
    await create(request);
    await create(request);
    await expect(create(request)).rejects.toMatchObject({ code: 'budget_exceeded', status: 429 });
    expect((await create.report())[0]).toMatchObject({ tenant: 'team-a', spentUsd: 8 });
    expect(create.state()).toEqual({ mode: 'local', degraded: false });
  });
});

describe('withAll({ cache, budget })', () => {
  it('puts the budget inside the cache: a cached answer is served to a caller over budget', async () => {
    const { withAll } = await import('../../src/wrap/all.ts');
    let calls = 0;
    const ask = withAll(
      async (req: { model: string; messages: { role: string; content: string }[]; max_tokens: number }) => {
        calls++;
        return {
          model: req.model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: estimateUsd, completion_tokens: 0 },
        };
      },
      {
        cache: { ttl: 60 },
        // Room for exactly one call: its settled cost is its estimate.
        budget: { tiers: { free: { budgetUsd: estimateUsd } }, clock: manualClock(DEC_1_10AM) },
        tenant: 'alice',
        tier: 'free',
      },
    );
    await ask(request);
    await expect(ask(request)).resolves.toMatchObject({ choices: [{ message: { content: 'ok' } }] });
    await expect(ask(chat('Something new.', 4))).rejects.toMatchObject({ code: 'budget_exceeded' });
    expect(calls).toBe(1);
  });
});

describe('series at 0 from start', () => {
  it('primes budget decisions and spend for every budgeted tier, and nothing per tenant', async () => {
    const { primeSeries } = await import('../../src/telemetry/prime.ts');
    const { MeterProvider } = await import('@opentelemetry/sdk-metrics');
    const { OnDemandReader } = await import('../helpers/telemetry.ts');
    const reader = new OnDemandReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    primeSeries(
      { models: [], tiers: ['free', 'pro'], cacheLayers: [], budgetTiers: ['free'] },
      meterProvider,
    );
    const { resourceMetrics } = await reader.collect();
    const points = (name: string) =>
      resourceMetrics.scopeMetrics
        .flatMap((scope) => scope.metrics)
        .filter((metric) => metric.descriptor.name === name)
        .flatMap((metric) =>
          metric.dataPoints.map((point) => ({ attributes: point.attributes, value: point.value })),
        );
    expect(points('alchemist.budget.spent')).toEqual([
      { attributes: { 'alchemist.tier': 'free' }, value: 0 },
    ]);
    expect(points('alchemist.budget.requests')).toEqual([
      { attributes: { 'alchemist.tier': 'free', 'alchemist.budget.result': 'allowed' }, value: 0 },
      { attributes: { 'alchemist.tier': 'free', 'alchemist.budget.result': 'rejected' }, value: 0 },
    ]);
    await meterProvider.shutdown();
  });
});
