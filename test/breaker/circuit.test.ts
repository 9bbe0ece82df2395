import { describe, expect, it } from 'vitest';
import { createBreakerRegistry } from '../../src/breaker/registry.ts';
import { createResilience } from '../../src/breaker/resilience.ts';
import { isCircuitOpenError } from '../../src/core/errors.ts';
import { jsonResult } from '../../src/core/result.ts';
import {
  badRequest,
  context,
  fakeSleeper,
  fakeUpstream,
  manualClock,
  ok,
  rateLimited,
  serverError,
} from './fakes.ts';

function setup(options: Parameters<typeof createResilience>[0] = {}) {
  const clock = manualClock();
  const resilience = createResilience({ clock, maxRetries: 0, halfOpenAfterMs: 10_000, ...options });
  const run = (next: Parameters<typeof resilience.execute>[1], model = 'gpt-4o') =>
    resilience.execute(context({ model }), next);
  return { clock, resilience, run };
}

async function failTimes(run: (next: never) => Promise<unknown>, next: unknown, times: number) {
  for (let i = 0; i < times; i++) await expect(run(next as never)).rejects.toThrow();
}

describe('consecutive breaker', () => {
  it('opens at the threshold, then fails fast without calling the upstream', async () => {
    const { resilience, run } = setup({ failureThreshold: 3 });
    const upstream = fakeUpstream(serverError(503));
    await failTimes(run, upstream.next, 2);
    expect(resilience.breakers.get('openai/gpt-4o')?.state).toBe('closed');
    await failTimes(run, upstream.next, 1);
    expect(resilience.breakers.get('openai')?.state).toBe('open');
    expect(resilience.breakers.get('openai/gpt-4o')?.state).toBe('open');
    expect(upstream.calls).toHaveLength(3);

    const error = await run(upstream.next).catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
    expect(upstream.calls).toHaveLength(3);
  });

  it('a success resets the count of consecutive failures', async () => {
    const { resilience, run } = setup({ failureThreshold: 2 });
    const upstream = fakeUpstream(serverError(), ok(), serverError(), ok());
    for (let i = 0; i < 4; i++) await run(upstream.next).catch(() => {});
    expect(resilience.breakers.get('openai')?.state).toBe('closed');
  });

  it("a caller's 400 never trips it (the provider answered)", async () => {
    const { resilience, run } = setup({ failureThreshold: 1 });
    const upstream = fakeUpstream(badRequest());
    await failTimes(run, upstream.next, 5);
    expect(resilience.breakers.get('openai')?.state).toBe('closed');
    expect(upstream.calls).toHaveLength(5);
  });

  it('counts returned 5xx results, not only thrown errors', async () => {
    const { resilience, run } = setup({ failureThreshold: 2 });
    const upstream = fakeUpstream(jsonResult({ error: 'boom' }, 502));
    const first = await run(upstream.next);
    expect(first.status).toBe(502); // returned as is once retries are exhausted
    await run(upstream.next);
    expect(resilience.breakers.get('openai/gpt-4o')?.state).toBe('open');
  });

  it('never counts provider 429s by default (capacity, not ill health); tripOn429 opts in', async () => {
    // Issue 13 item 3: five 429s on one model used to open the breakers (503 for everyone).
    const lenient = setup({ failureThreshold: 2 });
    await failTimes(lenient.run, fakeUpstream(rateLimited()).next, 4);
    expect(lenient.resilience.breakers.get('openai')?.state).toBe('closed');
    expect(lenient.resilience.breakers.get('openai/gpt-4o')?.state).toBe('closed');

    const tripping = setup({ failureThreshold: 2, tripOn429: true });
    await failTimes(tripping.run, fakeUpstream(rateLimited()).next, 2);
    expect(tripping.resilience.breakers.get('openai')?.state).toBe('open');
  });

  it('CircuitOpenError says how long until half-open', async () => {
    const { clock, run } = setup({ failureThreshold: 1 });
    await failTimes(run, fakeUpstream(serverError()).next, 1);
    clock.advance(2_500);
    const error = await run(fakeUpstream(ok()).next).catch((e: unknown) => e);
    expect(isCircuitOpenError(error) && error.retryAfter).toBe(8); // ceil(7.5 s)
    expect(isCircuitOpenError(error) && error.status).toBe(503);
  });
});

describe('half-open', () => {
  it('lets exactly one probe through while the others fail fast, and closes on its success', async () => {
    const { clock, resilience, run } = setup({ failureThreshold: 1 });
    await failTimes(run, fakeUpstream(serverError()).next, 1);
    clock.advance(10_000);

    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const probe = fakeUpstream(async () => {
      await gate;
      return ok();
    });
    const first = run(probe.next);
    // Let the probe reach the upstream before the others arrive.
    await new Promise((resolve) => setImmediate(resolve));
    expect(resilience.breakers.get('openai')?.state).toBe('half_open');
    const others = await Promise.allSettled([run(probe.next), run(probe.next)]);
    expect(others.every((o) => o.status === 'rejected' && isCircuitOpenError(o.reason))).toBe(true);
    expect(probe.calls).toHaveLength(1);

    release();
    await expect(first).resolves.toMatchObject({ status: 200 });
    expect(resilience.breakers.get('openai')?.state).toBe('closed');
    expect(resilience.breakers.get('openai/gpt-4o')?.state).toBe('closed');
    await run(probe.next);
    expect(probe.calls).toHaveLength(2);
  });

  it('reopens when the probe fails, for another half-open delay', async () => {
    const { clock, resilience, run } = setup({ failureThreshold: 1 });
    const upstream = fakeUpstream(serverError());
    await failTimes(run, upstream.next, 1);
    clock.advance(10_000);
    await failTimes(run, upstream.next, 1); // the probe
    expect(upstream.calls).toHaveLength(2);
    const snapshot = resilience.breakers.get('openai')?.snapshot();
    expect(snapshot).toMatchObject({ state: 'open', opens: 2, lastFailure: '5xx', retryAfterSeconds: 10 });
    expect(snapshot?.nextHalfOpenAt).toBe(clock.now() + 10_000);
    clock.advance(9_999);
    await failTimes(run, upstream.next, 1);
    expect(upstream.calls).toHaveLength(2);
  });

  it('a probe that teaches nothing (caller left) frees the probe slot', async () => {
    const { clock, resilience, run } = setup({ failureThreshold: 1 });
    await failTimes(run, fakeUpstream(serverError()).next, 1);
    clock.advance(10_000);
    const caller = new AbortController();
    const leaving = fakeUpstream(async () => {
      caller.abort();
      throw caller.signal.reason;
    });
    await expect(resilience.execute(context({ signal: caller.signal }), leaving.next)).rejects.toThrow();
    expect(resilience.breakers.get('openai')?.state).toBe('half_open');
    const next = fakeUpstream(ok());
    await run(next.next);
    expect(next.calls).toHaveLength(1);
    expect(resilience.breakers.get('openai')?.state).toBe('closed');
  });
});

describe('sampling breaker', () => {
  const options = {
    mode: 'sampling' as const,
    failureRatio: 0.5,
    samplingWindowMs: 10_000,
    minimumCalls: 10,
  };

  it('opens when the failure ratio over the window reaches the threshold, with enough calls', async () => {
    const { resilience, run } = setup(options);
    // ok, fail, ok, fail ... ok: 4 of 9 failed. The minimum throughput (10 calls) is not reached.
    for (let i = 0; i < 9; i++) await run(fakeUpstream(i % 2 ? serverError() : ok()).next).catch(() => {});
    expect(resilience.breakers.get('openai')?.state).toBe('closed');
    expect(resilience.breakers.get('openai')?.snapshot()).toMatchObject({ failures: 4, calls: 9 });
    await run(fakeUpstream(serverError()).next).catch(() => {}); // 10th call, 5/10 failed
    expect(resilience.breakers.get('openai')?.state).toBe('open');
  });

  it('stays closed below the ratio', async () => {
    const { resilience, run } = setup(options);
    const script = [
      ok(),
      ok(),
      serverError(),
      ok(),
      ok(),
      serverError(),
      ok(),
      ok(),
      serverError(),
      ok(),
      ok(),
    ];
    for (const step of script) await run(fakeUpstream(step).next).catch(() => {});
    expect(resilience.breakers.get('openai')?.snapshot()).toMatchObject({
      state: 'closed',
      failures: 3,
      calls: 11,
    });
  });

  it('forgets failures older than the window', async () => {
    const { clock, resilience, run } = setup(options);
    for (let i = 0; i < 9; i++) await run(fakeUpstream(serverError()).next).catch(() => {});
    clock.advance(11_000);
    for (let i = 0; i < 9; i++) await run(fakeUpstream(ok()).next);
    await run(fakeUpstream(serverError()).next).catch(() => {});
    expect(resilience.breakers.get('openai')?.snapshot()).toMatchObject({
      state: 'closed',
      failures: 1,
      calls: 10,
    });
  });
});

describe('registry', () => {
  it('is shared: failures on one policy open the breaker for another', async () => {
    const clock = manualClock();
    const breakers = createBreakerRegistry({ clock, failureThreshold: 2 });
    const a = createResilience({ breakers, maxRetries: 0 });
    const b = createResilience({ breakers, maxRetries: 0, sleep: fakeSleeper().sleep });
    const upstream = fakeUpstream(serverError());
    await expect(a.execute(context(), upstream.next)).rejects.toThrow();
    await expect(a.execute(context(), upstream.next)).rejects.toThrow();
    const error = await b.execute(context(), upstream.next).catch((e: unknown) => e);
    expect(isCircuitOpenError(error)).toBe(true);
    expect(upstream.calls).toHaveLength(2);
  });

  it('keeps one breaker per provider and per provider/model', async () => {
    const { resilience, run } = setup({ failureThreshold: 1 });
    await failTimes(run, fakeUpstream(serverError()).next, 1);
    // The provider breaker is open, so other models of the provider fail fast too.
    const other = await run(fakeUpstream(ok()).next, 'gpt-4o-mini').catch((e: unknown) => e);
    expect(isCircuitOpenError(other) && other.breaker).toBe('openai');
    expect(resilience.state().breakers.map((b) => [b.name, b.state])).toEqual([
      ['openai', 'open'],
      ['openai/gpt-4o', 'open'],
      ['openai/gpt-4o-mini', 'closed'],
    ]);
  });

  it("caps the number of breakers; past it new models share the provider's _OTHER breaker", () => {
    const breakers = createBreakerRegistry({ maxBreakers: 3 });
    expect(breakers.breakersFor('openai', 'a').map((b) => b.name)).toEqual(['openai', 'openai/a']);
    expect(breakers.breakersFor('openai', 'b').map((b) => b.name)).toEqual(['openai', 'openai/b']);
    // Issue 13 item 9: past the cap a model used to get no model breaker at all.
    expect(breakers.breakersFor('openai', 'c').map((b) => b.name)).toEqual(['openai', 'openai/_OTHER']);
    expect(breakers.breakersFor('openai', 'd').map((b) => b.name)).toEqual(['openai', 'openai/_OTHER']);
    expect(breakers.snapshot()).toHaveLength(4);
  });

  it('notifies state-change listeners', async () => {
    const { resilience, clock, run } = setup({ failureThreshold: 1 });
    const seen: string[] = [];
    resilience.breakers.onStateChange((t) => seen.push(`${t.name}:${t.from}->${t.to}`));
    await failTimes(run, fakeUpstream(serverError()).next, 1);
    clock.advance(10_000);
    await run(fakeUpstream(ok()).next);
    expect(seen).toEqual([
      'openai:closed->open',
      'openai/gpt-4o:closed->open',
      'openai:open->half_open',
      'openai/gpt-4o:open->half_open',
      'openai:half_open->closed',
      'openai/gpt-4o:half_open->closed',
    ]);
  });
});
