import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { genAiLatestOptIn, getInstruments } from '../../src/telemetry/instruments.ts';
import { OnDemandReader } from '../helpers/telemetry.ts';

/** Record one upstream call's GenAI metrics on a fresh provider, and list the metric names it exported. */
async function exportedNames(): Promise<Map<string, string[]>> {
  const reader = new OnDemandReader();
  const provider = new MeterProvider({ readers: [reader] });
  const instruments = getInstruments(provider);
  const attributes = { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' };
  instruments.operationDuration.record(0.5, attributes);
  instruments.timeToFirstChunk.record(0.1, attributes);
  instruments.timePerOutputChunk.record(0.02, attributes);
  instruments.tokenUsage.record(12, { ...attributes, 'gen_ai.token.type': 'input' });
  instruments.tokenUsage.record(34, { ...attributes, 'gen_ai.token.type': 'output' });
  const { resourceMetrics } = await reader.collect();
  const names = new Map<string, string[]>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (!metric.descriptor.name.startsWith('gen_ai.')) continue;
      names.set(
        metric.descriptor.name,
        metric.dataPoints.map((p) => JSON.stringify([(p.value as { sum: number }).sum, p.attributes])),
      );
    }
  }
  await provider.shutdown();
  return names;
}

// Issue 15: honour OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental for the current GenAI
// conventions' names, keeping v1.41.0 as the default.
describe('OTEL_SEMCONV_STABILITY_OPT_IN', () => {
  const saved = process.env.OTEL_SEMCONV_STABILITY_OPT_IN;
  afterEach(() => {
    if (saved === undefined) delete process.env.OTEL_SEMCONV_STABILITY_OPT_IN;
    else process.env.OTEL_SEMCONV_STABILITY_OPT_IN = saved;
  });

  it('keeps the v1.41.0 names by default', async () => {
    delete process.env.OTEL_SEMCONV_STABILITY_OPT_IN;
    expect([...(await exportedNames()).keys()].sort()).toEqual([
      'gen_ai.client.operation.duration',
      'gen_ai.client.operation.time_per_output_chunk',
      'gen_ai.client.operation.time_to_first_chunk',
      'gen_ai.client.token.usage',
    ]);
  });

  it('switches to the gen_ai.client.inference.* names, and stops the old ones, with gen_ai_latest_experimental', async () => {
    process.env.OTEL_SEMCONV_STABILITY_OPT_IN = 'http, gen_ai_latest_experimental';
    expect(genAiLatestOptIn()).toBe(true);
    const names = await exportedNames();
    expect([...names.keys()].sort()).toEqual([
      'gen_ai.client.inference.duration',
      'gen_ai.client.inference.operation.input_tokens',
      'gen_ai.client.inference.operation.output_tokens',
      'gen_ai.client.inference.time_per_output_chunk',
      'gen_ai.client.inference.time_to_first_chunk',
    ]);
    // The token type is the instrument now, not an attribute.
    const attributes = { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o' };
    expect(names.get('gen_ai.client.inference.operation.input_tokens')).toEqual([
      JSON.stringify([12, attributes]),
    ]);
    expect(names.get('gen_ai.client.inference.operation.output_tokens')).toEqual([
      JSON.stringify([34, attributes]),
    ]);
  });

  it('ignores other values', () => {
    process.env.OTEL_SEMCONV_STABILITY_OPT_IN = 'http,database';
    expect(genAiLatestOptIn()).toBe(false);
  });
});
