import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { type GatewayProcess, startGateway } from '../helpers/gateway.ts';
import { gatewayConfig } from './harness/config.ts';
import { chat, chatBody } from './harness/http.ts';
import { mapConcurrent } from './harness/load.ts';
import { labelValues, parsePrometheus, seriesCount, sumOf } from './harness/prometheus.ts';

// Distinct callers against a real gateway without configured keys (tenant = hash of the bearer key):
// the series in its /metrics do not grow with callers, and no caller's identical prompt is a cache hit
// for another caller. ALCHEMIST_CARDINALITY_CALLERS raises the count (800 by default; test:chaos runs 10000).

const CALLERS = Number(process.env.ALCHEMIST_CARDINALITY_CALLERS ?? 800);

let sim: Simulator;
let gateway: GatewayProcess;

beforeAll(async () => {
  sim = await startSimulator();
  gateway = await startGateway({
    name: 'cardinality',
    env: { SIM_PROVIDER_KEY: 'sk-provider-cardinality-000' },
    config: gatewayConfig({ simulatorUrl: sim.url }),
  });
});
afterAll(async () => {
  await gateway?.stop();
  await sim?.close();
});

describe(`metric series with ${CALLERS} distinct callers on a gateway`, () => {
  it('stay constant, carry no caller identity, and no caller hits another caller’s entry', async () => {
    const key = (i: number) => `sk-distinct-caller-${i}-${(i * 2654435761) % 1e9}`;
    const call = (i: number) => chat(gateway.url, chatBody('the same prompt for everyone'), { key: key(i) });
    const warm = await mapConcurrent([...Array(50).keys()], 10, call);
    expect(warm.every((reply) => reply.status === 200)).toBe(true);
    const baseline = parsePrometheus(await gateway.metrics());

    const replies = await mapConcurrent([...Array(CALLERS).keys()], 24, (i) => call(50 + i));
    expect(replies.filter((reply) => reply.status !== 200).map((reply) => reply.status)).toEqual([]);
    // Same prompt, different tenants: every first request is a miss, never another tenant's entry.
    expect(replies.filter((reply) => /;\s*hit/.test(reply.headers.get('cache-status') ?? ''))).toEqual([]);

    const after = parsePrometheus(await gateway.metrics());
    const counted = (samples: typeof after) =>
      seriesCount(samples.filter((sample) => !/^(process|nodejs|v8js|target_info)/.test(sample.name)));
    console.info(
      `cardinality: ${counted(baseline)} alchemist/gen_ai series after 50 callers, ${counted(after)} after ${CALLERS + 50}`,
    );
    expect(counted(after)).toBe(counted(baseline));
    const labels = JSON.stringify(after.map((sample) => sample.labels));
    expect(labels).not.toMatch(/sk-distinct-caller|key-[0-9a-f]{16}/);
    expect(labelValues(after, 'alchemist_tenant').size).toBe(0);
  });

  it('300 junk model names create no breaker and no breaker series; configured models have theirs from the start', async () => {
    // Issue 13 item 9: every client-chosen model name used to create a breaker (3 series each), up
    // to 256, after which configured models got none.
    const breakerSeries = async () =>
      parsePrometheus(await gateway.metrics()).filter(
        (sample) => sample.name === 'alchemist_circuit_breaker_state',
      );
    const expected = ['sim', 'sim/_OTHER', 'sim/gpt-4o', 'sim/gpt-4o-mini'];
    const before = await breakerSeries();
    expect([...labelValues(before, 'alchemist_circuit_breaker_name')].sort()).toEqual(expected);
    const replies = await mapConcurrent([...Array(300).keys()], 24, (i) =>
      chat(gateway.url, chatBody(`junk ${i}`, { model: `junk-model-${i}` }), { key: 'sk-junk-models-0001' }),
    );
    expect(replies.filter((reply) => reply.status !== 200).map((reply) => reply.status)).toEqual([]);
    const after = await breakerSeries();
    expect(after).toHaveLength(expected.length * 3);
    expect([...labelValues(after, 'alchemist_circuit_breaker_name')].sort()).toEqual(expected);
    expect(
      sumOf(after, 'alchemist_circuit_breaker_state', {
        alchemist_circuit_breaker_name: 'sim/gpt-4o-mini',
        alchemist_circuit_breaker_state: 'closed',
      }),
    ).toBe(1);
  });
});
