import { SpanKind } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { UpstreamError } from '../../src/core/errors.ts';
import { withBreaker } from '../../src/wrap/breaker.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';
import { fakeSleeper, manualClock } from './fakes.ts';

const telemetry = useTestTelemetry();

describe('telemetry', () => {
  it('shows transitions, retries, the fallback and every attempt in one trace, and in metrics', async () => {
    const models: string[] = [];
    const create = withBreaker(
      async (request: { model: string }) => {
        models.push(request.model);
        if (request.model === 'gpt-4o') throw new UpstreamError('Service Unavailable', 503);
        return {
          id: 'r1',
          model: request.model,
          choices: [],
          usage: { prompt_tokens: 3, completion_tokens: 4 },
        };
      },
      {
        clock: manualClock(),
        sleep: fakeSleeper().sleep,
        maxRetries: 3,
        failureThreshold: 2,
        fallbacks: { 'gpt-4o': ['claude-3-haiku'] },
        resolveProvider: () => 'anthropic',
        route: 'telemetry-test',
      },
    );
    await expect(create({ model: 'gpt-4o' })).resolves.toMatchObject({ model: 'claude-3-haiku' });
    // Two attempts open the breakers (threshold 2), which stops the retries; the fallback answers.
    expect(models).toEqual(['gpt-4o', 'gpt-4o', 'claude-3-haiku']);

    const spans = telemetry.spans();
    const request = spans.find((s) => s.name === 'alchemist chat gpt-4o');
    expect(request).toBeDefined();
    const clients = spans.filter((s) => s.kind === SpanKind.CLIENT);
    expect(clients.map((s) => s.name)).toEqual(['chat gpt-4o', 'chat gpt-4o', 'chat claude-3-haiku']);
    expect(clients.map((s) => s.attributes['error.type'])).toEqual(['503', '503', undefined]);
    expect(clients.map((s) => s.attributes['gen_ai.provider.name'])).toEqual([
      'openai',
      'openai',
      'anthropic',
    ]);
    for (const client of clients) {
      expect(client.spanContext().traceId).toBe(request?.spanContext().traceId);
      expect(client.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    }

    const events = request?.events.map((e) => [e.name, e.attributes ?? {}] as const) ?? [];
    expect(events.map(([name]) => name)).toEqual([
      'alchemist.retry',
      'alchemist.circuit_breaker.transition',
      'alchemist.circuit_breaker.transition',
      'alchemist.fallback',
    ]);
    expect(events[0]?.[1]).toMatchObject({ 'alchemist.retry.attempt': 2, 'alchemist.retry.reason': '5xx' });
    expect(typeof events[0]?.[1]?.['alchemist.retry.delay_ms']).toBe('number');
    expect(events[1]?.[1]).toMatchObject({
      'alchemist.circuit_breaker.name': 'openai',
      'alchemist.circuit_breaker.state': 'open',
      'alchemist.circuit_breaker.from': 'closed',
    });
    expect(events[3]?.[1]).toMatchObject({
      'gen_ai.request.model': 'gpt-4o',
      'alchemist.fallback.model': 'claude-3-haiku',
      'alchemist.fallback.reason': 'circuit_open',
    });

    expect(
      await telemetry.sum('alchemist.retry.attempts', {
        'gen_ai.request.model': 'gpt-4o',
        'gen_ai.provider.name': 'openai',
        'alchemist.retry.reason': '5xx',
      }),
    ).toBe(1);
    expect(
      await telemetry.sum('alchemist.circuit_breaker.transitions', {
        'alchemist.circuit_breaker.name': 'openai/gpt-4o',
        'alchemist.circuit_breaker.state': 'open',
      }),
    ).toBe(1);
    const state = (s: string) =>
      telemetry.gauge('alchemist.circuit_breaker.state', {
        'alchemist.circuit_breaker.name': 'openai',
        'alchemist.circuit_breaker.state': s,
      });
    expect([await state('closed'), await state('open'), await state('half_open')]).toEqual([0, 1, 0]);
    expect(
      await telemetry.gauge('alchemist.circuit_breaker.state', {
        'alchemist.circuit_breaker.name': 'anthropic/claude-3-haiku',
        'alchemist.circuit_breaker.state': 'closed',
      }),
    ).toBe(1);
    expect(
      await telemetry.sum('alchemist.fallback.requests', {
        'gen_ai.request.model': 'gpt-4o',
        'alchemist.fallback.model': 'claude-3-haiku',
      }),
    ).toBe(1);
    expect(
      await telemetry.histogramCount('gen_ai.client.operation.duration', {
        'gen_ai.request.model': 'gpt-4o',
      }),
    ).toBe(2);
  });
});
