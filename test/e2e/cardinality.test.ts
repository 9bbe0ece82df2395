import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonResult, streamResult } from '../../src/core/result.ts';
import { aiContext } from '../../src/hono/context.ts';
import { aiHandler } from '../../src/hono/handler.ts';
import { traceUpstreamCall } from '../../src/telemetry/upstream.ts';
import { freePort } from '../helpers/ports.ts';
import { mapConcurrent } from './harness/load.ts';
import { labelValues, parsePrometheus, seriesCount } from './harness/prometheus.ts';

// 10k distinct callers (distinct bearer keys, users and tiers' worth of identities) must not create
// metric series: the Prometheus text the real exporter serves stays the same size. The gateway-level
// version of this check (real process, real /metrics) is in gateway-cardinality.test.ts.

let exporter: PrometheusExporter;
let port: number;

beforeAll(async () => {
  port = await freePort();
  exporter = new PrometheusExporter({ port, host: '127.0.0.1', preventServerStart: true });
  await exporter.startServer();
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [exporter] }));
});
afterAll(() => exporter.shutdown());

const scrape = async () => parsePrometheus(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());

function buildApp() {
  const app = new Hono();
  app.use('/v1/*', aiContext());
  app.post(
    '/v1/chat/completions',
    aiHandler((ctx) =>
      traceUpstreamCall(ctx, { serverAddress: 'upstream.invalid' }, async () => {
        const body = {
          model: ctx.model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
          usage: { prompt_tokens: 5, completion_tokens: 2 },
        };
        return ctx.stream
          ? streamResult(
              (async function* () {
                yield body;
              })(),
            )
          : jsonResult(body);
      }),
    ),
  );
  return app;
}

const KEY = (i: number) => `sk-caller-${i.toString(36)}-${(i * 7919).toString(16)}`;

describe('metric cardinality with 10k distinct callers', () => {
  const app = buildApp();
  const call = (i: number, model = 'gpt-4o-mini') =>
    Promise.resolve(
      app.request('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY(i)}` },
        body: JSON.stringify({
          model,
          stream: i % 3 === 0,
          user: `user-${i}`,
          messages: [{ role: 'user', content: `hello from caller ${i}` }],
        }),
      }),
    ).then(async (response) => {
      await response.text();
      return response.status;
    });

  it('series count does not grow with callers, and no caller identity becomes a label', async () => {
    const warm = await mapConcurrent([...Array(100).keys()], 16, (i) => call(i));
    expect(warm.filter((status) => status !== 200)).toEqual([]);
    const baseline = seriesCount(await scrape());

    const statuses = await mapConcurrent([...Array(10_000).keys()], 32, (i) => call(100 + i));
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    const after = await scrape();
    expect(seriesCount(after)).toBe(baseline);

    const text = JSON.stringify(after.map((sample) => sample.labels));
    expect(text).not.toMatch(/sk-caller-|key-[0-9a-f]{16}|user-\d|caller \d/);
  });

  it('caps request-supplied model names at the label bound (adversarial models)', async () => {
    const statuses = await mapConcurrent([...Array(2000).keys()], 32, (i) => call(i, `attacker-model-${i}`));
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    const samples = await scrape();
    const models = labelValues(samples, 'gen_ai_request_model');
    // BoundedLabel(64) plus `_OTHER`: 2000 distinct names collapse into at most 65 values.
    expect(models.size).toBeLessThanOrEqual(65);
    expect(models.has('_OTHER')).toBe(true);
    expect(seriesCount(samples)).toBeLessThan(3000);
  });
});
