import type { Histogram } from '@opentelemetry/sdk-metrics';
import { describe, expect, it } from 'vitest';
import { getInstruments, INSTRUMENT_SPECS, type InstrumentSpec } from '../../src/telemetry/instruments.ts';
import { useTestTelemetry } from '../helpers/telemetry.ts';

const telemetry = useTestTelemetry();

const doubling = (from: number, count: number) => Array.from({ length: count }, (_, i) => from * 2 ** i);

/** What DESIGN.md's contract says, written out independently of the code under test. */
const CONTRACT: Record<string, { kind: string; unit: string; buckets?: number[] }> = {
  'gen_ai.client.operation.duration': { kind: 'histogram', unit: 's', buckets: doubling(0.01, 14) },
  'gen_ai.client.token.usage': {
    kind: 'histogram',
    unit: '{token}',
    buckets: doubling(1, 14).map((_, i) => 4 ** i),
  },
  'gen_ai.client.operation.time_to_first_chunk': { kind: 'histogram', unit: 's' },
  'alchemist.request.duration': { kind: 'histogram', unit: 's' },
  'alchemist.cache.requests': { kind: 'counter', unit: '{request}' },
  'alchemist.ratelimit.requests': { kind: 'counter', unit: '{request}' },
  'alchemist.ratelimit.queue.duration': { kind: 'histogram', unit: 's' },
  'alchemist.circuit_breaker.state': { kind: 'gauge', unit: '{state}' },
  'alchemist.circuit_breaker.transitions': { kind: 'counter', unit: '{transition}' },
  'alchemist.retry.attempts': { kind: 'counter', unit: '{attempt}' },
  'alchemist.requests.active': { kind: 'updowncounter', unit: '{request}' },
  'alchemist.cost': { kind: 'counter', unit: 'USD' },
  'alchemist.store.available': { kind: 'gauge', unit: '{state}' },
};

describe('instruments', () => {
  it('cover every instrument of the DESIGN.md contract with its kind and unit', () => {
    const byName = new Map<string, InstrumentSpec>(
      Object.values(INSTRUMENT_SPECS).map((spec) => [spec.name, spec]),
    );
    for (const [name, expected] of Object.entries(CONTRACT)) {
      const spec = byName.get(name);
      expect(spec, name).toBeDefined();
      expect(spec?.kind, name).toBe(expected.kind);
      expect(spec?.unit, name).toBe(expected.unit);
      if (expected.buckets) expect([...(spec?.buckets ?? [])], name).toEqual(expected.buckets);
    }
  });

  it('record durations in seconds, never milliseconds (the classic bug)', () => {
    for (const spec of Object.values(INSTRUMENT_SPECS)) {
      if (spec.name.endsWith('duration') || spec.name.endsWith('first_chunk')) {
        expect(spec.unit, spec.name).toBe('s');
        const buckets = (spec as { buckets?: readonly number[] }).buckets ?? [];
        expect(buckets.length, spec.name).toBeGreaterThan(0);
        expect(Math.max(...buckets), spec.name).toBeLessThanOrEqual(120);
      }
    }
  });

  it('export histograms with the advised bucket boundaries and units', async () => {
    const instruments = getInstruments();
    instruments.operationDuration.record(0.5, { 'gen_ai.operation.name': 'chat' });
    instruments.tokenUsage.record(100, { 'gen_ai.token.type': 'input' });
    instruments.requestDuration.record(0.0003, {});
    const metrics = (await telemetry.collect()).scopeMetrics.flatMap((scope) => scope.metrics);
    const duration = metrics.find((m) => m.descriptor.name === 'gen_ai.client.operation.duration');
    expect(duration?.descriptor.unit).toBe('s');
    const point = duration!.dataPoints[0]!.value as Histogram;
    expect(point.buckets.boundaries).toEqual(doubling(0.01, 14));
    // 0.5 s falls in the (0.32, 0.64] bucket.
    expect(point.buckets.counts[doubling(0.01, 14).indexOf(0.64)]).toBe(1);
    const tokens = metrics.find((m) => m.descriptor.name === 'gen_ai.client.token.usage');
    expect((tokens!.dataPoints[0]!.value as Histogram).buckets.boundaries.at(-1)).toBe(67108864);
    const request = metrics.find((m) => m.descriptor.name === 'alchemist.request.duration');
    expect((request!.dataPoints[0]!.value as Histogram).buckets.boundaries[0]).toBe(0.0005);
  });

  it('are created once per meter provider', () => {
    expect(getInstruments()).toBe(getInstruments());
    expect(getInstruments(telemetry.meterProvider)).toBe(getInstruments());
  });

  it('use the alchemist. prefix for everything that is not a GenAI or HTTP semconv name', () => {
    for (const spec of Object.values(INSTRUMENT_SPECS)) {
      expect(spec.name).toMatch(/^(alchemist\.|gen_ai\.client\.|http\.server\.request\.duration$)/);
    }
  });
});
