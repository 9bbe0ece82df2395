import { SpanKind } from '@opentelemetry/api';
import { beforeEach, describe, expect, it } from 'vitest';
import { createResilience } from '../../src/breaker/resilience.ts';
import { aiCachePolicy } from '../../src/cache/index.ts';
import type { Policy } from '../../src/core/compose.ts';
import { isCircuitOpenError, isRateLimitedError, UpstreamError } from '../../src/core/errors.ts';
import type { AiResult } from '../../src/core/result.ts';
import { orderPolicies, withAll } from '../../src/wrap/all.ts';
import { withBreaker } from '../../src/wrap/breaker.ts';
import { withCache } from '../../src/wrap/cache.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

const telemetry = useTestTelemetry();
beforeEach(() => telemetry.reset());

interface Chat {
  model: string;
  messages: { role: string; content: string }[];
  stream?: boolean;
}

let counter = 0;
const chat = (stream = false): Chat => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: `withAll prompt ${++counter}` }],
  ...(stream ? { stream } : {}),
});

function completion(request: Chat) {
  return {
    id: 'c1',
    model: request.model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 1 },
  };
}

/** A policy that logs when it runs, to observe the order. */
function probe(name: string, log: string[]): Policy<AiResult> {
  return {
    name,
    async execute(ctx, next) {
      log.push(name);
      return next(ctx);
    },
  };
}

describe('withAll', () => {
  it('runs limit → cache → breaker → model limit → policies, and a hit stops at the cache', async () => {
    const log: string[] = [];
    const ordered = orderPolicies({
      policies: [probe('extra', log)],
      modelRateLimit: probe('model', log),
      breaker: probe('breaker', log),
      cache: [probe('cache', log)],
      rateLimit: probe('limit', log),
    });
    expect(ordered.map((policy) => policy.name)).toEqual([
      'limit',
      'thaw',
      'cache',
      'breaker',
      'model',
      'extra',
    ]);

    const call = withAll(async (request: Chat) => completion(request), {
      rateLimit: probe('limit', log),
      cache: aiCachePolicy(),
      breaker: probe('breaker', log),
    });
    const request = chat();
    log.length = 0;
    await call(request);
    expect(log).toEqual(['limit', 'breaker']);
    log.length = 0;
    await call(request);
    expect(log).toEqual(['limit']);
  });

  it('builds policies from their options, and hands callers mutable copies of cached answers', async () => {
    let calls = 0;
    const call = withAll(
      async (request: Chat) => {
        calls++;
        return completion(request);
      },
      { cache: { ttl: 60 }, rateLimit: { tiers: { default: { requestsPerMinute: 3 } } } },
    );
    const request = chat();
    const first = await call(request);
    const second = await call(request);
    expect(second).toEqual(first);
    expect(calls).toBe(1);
    second.choices[0]!.message.content = 'changed by the caller';
    expect((await call(request)).choices[0]!.message.content).toBe('hi');
    const limited = await call(request).catch((error: unknown) => error);
    expect(isRateLimitedError(limited)).toBe(true);
  });

  it('keeps streams streams and caches them', async () => {
    let calls = 0;
    const call = withAll(
      async (request: Chat) => {
        calls++;
        return (async function* () {
          yield { model: request.model, choices: [{ delta: { content: 'a' }, finish_reason: null }] };
          yield { model: request.model, choices: [{ delta: { content: 'b' }, finish_reason: 'stop' }] };
        })();
      },
      { cache: aiCachePolicy() },
    );
    const request = chat(true);
    const text = async () => {
      let out = '';
      for await (const chunk of await call(request)) out += chunk.choices[0]!.delta.content;
      return out;
    };
    expect(await text()).toBe('ab');
    expect(await text()).toBe('ab');
    expect(calls).toBe(1);
  });

  it('fails fast with CircuitOpenError once the breaker opens, without calling fn', async () => {
    let calls = 0;
    const call = withAll(
      async () => {
        calls++;
        throw new UpstreamError('down', 503);
      },
      { breaker: createResilience({ failureThreshold: 2, maxRetries: 0, halfOpenAfterMs: 60_000 }) },
    );
    await expect(call(chat())).rejects.toThrow(UpstreamError);
    await expect(call(chat())).rejects.toThrow(UpstreamError);
    const open = await call(chat()).catch((error: unknown) => error);
    expect(isCircuitOpenError(open)).toBe(true);
    expect(calls).toBe(2);
    expect(
      await telemetry.sum('alchemist.circuit_breaker.transitions', {
        'alchemist.circuit_breaker.state': 'open',
      }),
    ).toBeGreaterThan(0);
  });

  it('rejects a role that is neither a policy nor options, naming it', () => {
    expect(() => withAll(async () => ({}), { cache: 'yes' as never })).toThrow(/'cache' must be a policy/);
    expect(() => withAll(async () => ({}), { breaker: [{}] as never })).toThrow(
      /'breaker' must hold policies/,
    );
  });

  it('composes nested wrappers: withCache(withBreaker(fn)) is one wrapper, not two', async () => {
    let calls = 0;
    const call = withCache(
      withBreaker(
        async function chatCall(request: Chat) {
          calls++;
          return completion(request);
        },
        { maxRetries: 0 },
      ),
      { ttl: 60 },
    );
    const request = chat();
    await call(request);
    await call(request);
    expect(calls).toBe(1);
    const spans = telemetry.spans();
    // One request span per call and one CLIENT span for the one upstream call: nothing counted twice.
    expect(spans.filter((span) => span.name === 'alchemist chat gpt-4o-mini')).toHaveLength(2);
    expect(spans.filter((span) => span.kind === SpanKind.CLIENT)).toHaveLength(1);
    expect(
      await telemetry.histogramCount('alchemist.request.duration', { 'alchemist.cache.result': 'hit' }),
    ).toBeGreaterThanOrEqual(1);
  });
});
