import type { Histogram } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { primeSeries, requestSeries } from '../../src/telemetry/prime.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

const telemetry = useTestTelemetry();

// Issue 15: a series created by its first event hides that event from rate()/increase(), so on a fresh
// gateway the first 429s, every circuit_open, coalesced and bypass request, breaker transition and retry
// never showed. Every known decision's series must exist at 0 from start.
describe('primeSeries', () => {
  primeSeries({
    models: [
      { model: 'gpt-4o', provider: 'openai', fallbacks: ['claude-3-5-sonnet'], outboundLimit: true },
      { model: 'claude-3-5-sonnet', provider: 'anthropic' },
    ],
    tiers: ['free', 'pro'],
    cacheLayers: ['memory', 'redis'],
  });

  it('creates alchemist.request.duration series with count and sum 0 for each configured model', async () => {
    const points = await telemetry.points('alchemist.request.duration');
    expect(points).toHaveLength(2 * requestSeries(true).length);
    for (const point of points) {
      const value = point.value as Histogram;
      expect([value.count, value.sum, value.buckets.counts.every((n) => n === 0)]).toEqual([0, 0, true]);
    }
    for (const [outcome, result] of [
      ['rate_limited', 'none'],
      ['circuit_open', 'miss'],
      ['upstream_error', 'coalesced'],
      ['success', 'bypass'],
      ['success', 'coalesced'],
    ]) {
      const match = {
        'alchemist.outcome': outcome,
        'alchemist.cache.result': result,
        'gen_ai.request.model': 'claude-3-5-sonnet',
        'gen_ai.provider.name': 'anthropic',
      };
      expect(
        await telemetry.points('alchemist.request.duration', match),
        `${outcome}/${result}`,
      ).toHaveLength(1);
    }
  });

  it('creates every decision counter at 0: cache results, limits, breakers, retries, fallbacks, cost', async () => {
    const zeros = async (name: string) => {
      const points = await telemetry.points(name);
      expect(
        points.every((point) => point.value === 0),
        name,
      ).toBe(true);
      return points.map((point) => point.attributes);
    };
    expect(await zeros('alchemist.cache.requests')).toHaveLength(1 + 5 * 2);
    const limits = await zeros('alchemist.ratelimit.requests');
    // 3 tier decisions per model and tier, 3 outbound ones for the limited model per tier.
    expect(limits).toHaveLength(2 * 2 * 3 + 2 * 3);
    expect(limits).toContainEqual({
      'alchemist.ratelimit.result': 'queued',
      'alchemist.ratelimit.scope': 'model',
      'alchemist.tier': 'free',
      'gen_ai.request.model': 'gpt-4o',
    });
    const transitions = await zeros('alchemist.circuit_breaker.transitions');
    expect(new Set(transitions.map((a) => a['alchemist.circuit_breaker.name']))).toEqual(
      new Set(['openai', 'openai/gpt-4o', 'anthropic', 'anthropic/claude-3-5-sonnet']),
    );
    expect(transitions).toHaveLength(4 * 3);
    expect(await zeros('alchemist.retry.attempts')).toHaveLength(2 * 4);
    expect(await zeros('alchemist.fallback.requests')).toEqual([
      { 'gen_ai.request.model': 'gpt-4o', 'alchemist.fallback.model': 'claude-3-5-sonnet' },
    ]);
    expect(await zeros('alchemist.cost')).toHaveLength(2 * 2);
    expect(await zeros('alchemist.cache.cost_saved')).toHaveLength(2 * 2);
    expect(await zeros('alchemist.cache.tokens_saved')).toHaveLength(2);
    const queue = await telemetry.points('alchemist.ratelimit.queue.duration');
    expect(queue.map((point) => [point.attributes, (point.value as Histogram).count])).toEqual([
      [{ 'alchemist.ratelimit.scope': 'model', 'gen_ai.request.model': 'gpt-4o' }, 0],
    ]);
    expect(
      await telemetry.gauge('alchemist.circuit_breaker.state', {
        'alchemist.circuit_breaker.name': 'anthropic/claude-3-5-sonnet',
        'alchemist.circuit_breaker.state': 'closed',
      }),
    ).toBe(1);
  });

  it('a cache that is off primes only the `none` result, one per outcome', () => {
    expect(requestSeries(false).map(([, result]) => result)).toEqual(Array(9).fill('none'));
    expect(requestSeries(true)).toHaveLength(29);
  });
});
