import { type DataPoint, MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBreakerRegistry } from '../../src/breaker/registry.ts';
import { createResilience, resilienceOptionsFromConfig } from '../../src/breaker/resilience.ts';
import { isCircuitOpenError, isUpstreamError, isUpstreamTimeoutError } from '../../src/core/errors.ts';
import { OnDemandReader } from '../helpers/telemetry.ts';
import {
  context,
  fakeSleeper,
  fakeUpstream,
  hangUntilAborted,
  manualClock,
  ok,
  rateLimited,
  serverError,
} from './fakes.ts';

// Issue 13 items 3 and 9: which breaker a failure opens, and which model names may create breakers.

afterEach(() => {
  vi.useRealTimers();
});

const refused = () => Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
const failed = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('one bad model never blocks its siblings', () => {
  it("tenant B's hanging model opens only its own breaker; tenant A's other models still answer", async () => {
    vi.useFakeTimers();
    const resilience = createResilience({
      maxRetries: 0,
      failureThreshold: 5,
      timeoutMs: 5_000,
      models: { openai: ['gpt-4o', 'gpt-4o-mini', '_OTHER'] },
    });
    const upstream = fakeUpstream((ctx) =>
      ctx.model === 'gpt-4o' ? hangUntilAborted(ctx.signal) : Promise.resolve(ok()),
    );
    // The repro: 5 concurrent requests of tenant B to a model that hangs.
    const hanging = Array.from({ length: 5 }, () =>
      failed(resilience.execute(context({ model: 'gpt-4o', tenant: 'tenant-b' }), upstream.next)),
    );
    await vi.advanceTimersByTimeAsync(5_600);
    expect((await Promise.all(hanging)).every(isUpstreamTimeoutError)).toBe(true);
    expect(resilience.breakers.get('openai/gpt-4o')?.state).toBe('open');
    expect(resilience.breakers.get('openai')?.state).toBe('closed');

    const asA = (model: string) => resilience.execute(context({ model, tenant: 'tenant-a' }), upstream.next);
    await expect(asA('gpt-4o-mini')).resolves.toMatchObject({ status: 200 });
    await expect(asA('o3-unlisted')).resolves.toMatchObject({ status: 200 });
    const blocked = await failed(asA('gpt-4o'));
    expect(isCircuitOpenError(blocked) && blocked.breaker).toBe('openai/gpt-4o');
  });

  it('without a models list, the models seen so far are the siblings: 5×500 on one leaves the others open to calls', async () => {
    const clock = manualClock();
    const resilience = createResilience({ clock, maxRetries: 0, failureThreshold: 5 });
    await resilience.execute(context({ model: 'gpt-4o-mini' }), fakeUpstream(ok()).next);
    const broken = fakeUpstream(serverError(500));
    for (let i = 0; i < 5; i++) await failed(resilience.execute(context({ model: 'gpt-4o' }), broken.next));
    expect(resilience.breakers.get('openai/gpt-4o')?.state).toBe('open');
    expect(resilience.breakers.get('openai')?.state).toBe('closed');
    await expect(
      resilience.execute(context({ model: 'gpt-4o-mini' }), fakeUpstream(ok()).next),
    ).resolves.toMatchObject({ status: 200 });
  });

  it('failures spanning providerMinModels models open the provider breaker, failing fast for the rest', async () => {
    const resilience = createResilience({
      clock: manualClock(),
      maxRetries: 0,
      failureThreshold: 2,
      models: { openai: ['a', 'b', 'c'] },
    });
    const down = fakeUpstream(serverError(503));
    for (let i = 0; i < 2; i++) await failed(resilience.execute(context({ model: 'a' }), down.next));
    expect(resilience.breakers.get('openai')?.state).toBe('closed');
    await failed(resilience.execute(context({ model: 'b' }), down.next));
    expect(resilience.breakers.get('openai')?.snapshot()).toMatchObject({
      state: 'open',
      lastFailure: '5xx',
    });
    const error = await failed(resilience.execute(context({ model: 'c' }), fakeUpstream(ok()).next));
    expect(isCircuitOpenError(error) && error.breaker).toBe('openai');
    expect(down.calls).toHaveLength(3);
  });

  it('providerMinModels = 3 needs three failing models', async () => {
    const resilience = createResilience({
      clock: manualClock(),
      maxRetries: 0,
      failureThreshold: 1,
      providerMinModels: 3,
      models: { openai: ['a', 'b', 'c', 'd'] },
    });
    const down = fakeUpstream(serverError(500));
    await failed(resilience.execute(context({ model: 'a' }), down.next));
    await failed(resilience.execute(context({ model: 'b' }), down.next));
    expect(resilience.breakers.get('openai')?.state).toBe('closed');
    await failed(resilience.execute(context({ model: 'c' }), down.next));
    expect(resilience.breakers.get('openai')?.state).toBe('open');
  });

  it('connection-level failures (refused, reset, DNS, TLS) open the provider breaker even from one model', async () => {
    const resilience = createResilience({
      clock: manualClock(),
      maxRetries: 0,
      failureThreshold: 2,
      models: { openai: ['a', 'b'] },
    });
    const unreachable = fakeUpstream(refused());
    for (let i = 0; i < 2; i++) await failed(resilience.execute(context({ model: 'a' }), unreachable.next));
    expect(resilience.breakers.get('openai')?.snapshot()).toMatchObject({
      state: 'open',
      lastFailure: 'connection',
    });
    const error = await failed(resilience.execute(context({ model: 'b' }), fakeUpstream(ok()).next));
    expect(isCircuitOpenError(error) && error.breaker).toBe('openai');
  });

  it('a half-open provider probe that fails on one model does not reopen it; a sibling probe closes it', async () => {
    const clock = manualClock();
    const resilience = createResilience({
      clock,
      maxRetries: 0,
      failureThreshold: 1,
      halfOpenAfterMs: 10_000,
      models: { openai: ['a', 'b'] },
    });
    await failed(resilience.execute(context({ model: 'a' }), fakeUpstream(refused()).next));
    expect(resilience.breakers.get('openai')?.state).toBe('open');
    clock.advance(10_000);
    await failed(resilience.execute(context({ model: 'a' }), fakeUpstream(serverError()).next));
    expect(resilience.breakers.get('openai')?.state).toBe('half_open');
    expect(resilience.breakers.get('openai/a')?.state).toBe('open');
    await expect(resilience.execute(context({ model: 'b' }), fakeUpstream(ok()).next)).resolves.toMatchObject(
      { status: 200 },
    );
    expect(resilience.breakers.get('openai')?.state).toBe('closed');
  });

  it("a provider 429 passes through as a 429 with the provider's Retry-After and opens nothing", async () => {
    const sleeper = fakeSleeper();
    const resilience = createResilience({
      clock: manualClock(),
      sleep: sleeper.sleep,
      maxRetries: 1,
      failureThreshold: 2,
    });
    const limited = fakeUpstream(rateLimited(7));
    for (let i = 0; i < 5; i++) {
      const error = await failed(resilience.execute(context(), limited.next));
      expect(isUpstreamError(error) && [error.status, error.retryAfter]).toEqual([429, 7]);
      expect(isUpstreamError(error) && error.responseHeaders()['retry-after']).toBe('7');
    }
    expect(limited.calls).toHaveLength(10); // each call retried once, after Retry-After + jitter
    expect(sleeper.delays.every((delay) => delay >= 7_000)).toBe(true);
    expect(resilience.state().breakers.map((b) => [b.name, b.state])).toEqual([
      ['openai', 'closed'],
      ['openai/gpt-4o', 'closed'],
    ]);
  });

  it('validates providerMinModels and models, naming them', () => {
    expect(() => createBreakerRegistry({ providerMinModels: 0 })).toThrow(
      "createBreakerRegistry: 'providerMinModels' must be an integer >= 1, got 0",
    );
    expect(() => createBreakerRegistry({ models: { openai: 'gpt-4o' } as never })).toThrow(
      /'models' must map provider names to lists of model names, got openai: "gpt-4o"/,
    );
    expect(() => resilienceOptionsFromConfig({ provider_min_models: 1.5 })).toThrow(
      "[breaker]: 'provider_min_models' must be an integer >= 1, got 1.5",
    );
    expect(resilienceOptionsFromConfig({ provider_min_models: 3 })).toEqual({ providerMinModels: 3 });
  });
});

describe('model names chosen by clients create no breaker state', () => {
  it('300 junk names share one _OTHER breaker; listed models have theirs, with metric series, from the start', async () => {
    const reader = new OnDemandReader();
    const breakers = createBreakerRegistry({
      models: { openai: ['gpt-4o', 'gpt-4o-mini', '_OTHER'], anthropic: ['claude-3-5-haiku'] },
      meterProvider: new MeterProvider({ readers: [reader] }),
    });
    const names = () => breakers.snapshot().map((b) => b.name);
    const declared = [
      'openai',
      'openai/gpt-4o',
      'openai/gpt-4o-mini',
      'openai/_OTHER',
      'anthropic',
      'anthropic/claude-3-5-haiku',
    ];
    expect(names()).toEqual(declared);
    for (let i = 0; i < 300; i++) {
      expect(breakers.breakersFor('openai', `junk-model-${i}`).map((b) => b.name)).toEqual([
        'openai',
        'openai/_OTHER',
      ]);
    }
    expect(breakers.breakersFor('anthropic', 'claude-junk').map((b) => b.name)).toEqual([
      'anthropic',
      'anthropic/_OTHER',
    ]);
    expect(breakers.breakersFor('openai', 'gpt-4o').map((b) => b.name)).toEqual(['openai', 'openai/gpt-4o']);
    expect(names()).toEqual([...declared, 'anthropic/_OTHER']);

    // alchemist.circuit_breaker.state: one series per breaker and state, none per junk name.
    const { resourceMetrics } = await reader.collect();
    const series = resourceMetrics.scopeMetrics
      .flatMap((scope) => scope.metrics)
      .filter((metric) => metric.descriptor.name === 'alchemist.circuit_breaker.state')
      .flatMap((metric) => metric.dataPoints as DataPoint<number>[]);
    const seriesNames = new Set(series.map((point) => point.attributes['alchemist.circuit_breaker.name']));
    expect(series).toHaveLength(7 * 3);
    expect([...seriesNames].sort()).toEqual([...declared, 'anthropic/_OTHER'].sort());
    const closed = series.find(
      (point) =>
        point.attributes['alchemist.circuit_breaker.name'] === 'openai/gpt-4o' &&
        point.attributes['alchemist.circuit_breaker.state'] === 'closed',
    );
    expect(closed?.value).toBe(1);
  });

  it("junk names failing open only the shared breaker, never a listed model's", async () => {
    const resilience = createResilience({
      clock: manualClock(),
      maxRetries: 0,
      failureThreshold: 3,
      models: { openai: ['gpt-4o', '_OTHER'] },
    });
    const down = fakeUpstream(serverError(500));
    for (let i = 0; i < 3; i++) await failed(resilience.execute(context({ model: `junk-${i}` }), down.next));
    expect(resilience.breakers.get('openai/_OTHER')?.state).toBe('open');
    expect(resilience.breakers.get('openai')?.state).toBe('closed');
    await expect(
      resilience.execute(context({ model: 'gpt-4o' }), fakeUpstream(ok()).next),
    ).resolves.toMatchObject({ status: 200 });
  });
});
