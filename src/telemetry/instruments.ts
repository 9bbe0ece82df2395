import type {
  Counter,
  Gauge,
  Histogram,
  Meter,
  MeterProvider,
  MetricOptions,
  UpDownCounter,
} from '@opentelemetry/api';
import { metrics } from '@opentelemetry/api';
import {
  createAccumulatingCounter,
  createAccumulatingGauge,
  createAccumulatingUpDownCounter,
} from './accumulating.ts';
import { observeReadings } from './collected.ts';
import {
  ATTR_GEN_AI_TOKEN_TYPE,
  GEN_AI_DURATION_BUCKETS,
  GEN_AI_TIME_TO_FIRST_CHUNK_BUCKETS,
  GEN_AI_TOKEN_BUCKETS,
  GEN_AI_TOKEN_TYPE_OUTPUT,
  HTTP_SERVER_DURATION_BUCKETS,
  METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
  METRIC_GEN_AI_CLIENT_TIME_PER_OUTPUT_CHUNK,
  METRIC_GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK,
  METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from './semconv.ts';
import { PACKAGE_NAME, PACKAGE_VERSION } from './version.ts';

type Kind = 'counter' | 'histogram' | 'updowncounter' | 'gauge';

export interface InstrumentSpec {
  readonly name: string;
  readonly kind: Kind;
  readonly unit: string;
  readonly description: string;
  readonly buckets?: readonly number[];
}

/** Covers sub-millisecond cache hits up to multi-minute streams. */
const REQUEST_DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
] as const;
const QUEUE_DURATION_BUCKETS = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
] as const;

/**
 * Every instrument this package creates: the single source of truth for names, units and buckets.
 * The README's metric table is checked against it by a test.
 */
export const INSTRUMENT_SPECS = {
  operationDuration: {
    name: METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
    kind: 'histogram',
    unit: 's',
    description: 'GenAI operation duration, per upstream attempt.',
    buckets: GEN_AI_DURATION_BUCKETS,
  },
  tokenUsage: {
    name: METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
    kind: 'histogram',
    unit: '{token}',
    description: 'Input and output tokens used, per upstream call.',
    buckets: GEN_AI_TOKEN_BUCKETS,
  },
  timeToFirstChunk: {
    name: METRIC_GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK,
    kind: 'histogram',
    unit: 's',
    description: 'Time from the upstream request to its first streamed chunk.',
    buckets: GEN_AI_TIME_TO_FIRST_CHUNK_BUCKETS,
  },
  timePerOutputChunk: {
    name: METRIC_GEN_AI_CLIENT_TIME_PER_OUTPUT_CHUNK,
    kind: 'histogram',
    unit: 's',
    description: 'Mean time between streamed chunks after the first, per completed upstream stream.',
    buckets: GEN_AI_TIME_TO_FIRST_CHUNK_BUCKETS,
  },
  httpServerDuration: {
    name: METRIC_HTTP_SERVER_REQUEST_DURATION,
    kind: 'histogram',
    unit: 's',
    description: 'Duration of HTTP server requests (recorded where alchemist-perf opens the SERVER span).',
    buckets: HTTP_SERVER_DURATION_BUCKETS,
  },
  requestDuration: {
    name: 'alchemist.request.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Duration of a call through the policies, cache hits included.',
    buckets: REQUEST_DURATION_BUCKETS,
  },
  activeRequests: {
    name: 'alchemist.requests.active',
    kind: 'updowncounter',
    unit: '{request}',
    description: 'Calls in flight through the policies.',
  },
  cacheRequests: {
    name: 'alchemist.cache.requests',
    kind: 'counter',
    unit: '{request}',
    description: 'Cache lookups by result and layer.',
  },
  cacheEntries: {
    name: 'alchemist.cache.entries',
    kind: 'gauge',
    unit: '{entry}',
    description: 'Entries held by the in-memory cache layer.',
  },
  cacheSize: {
    name: 'alchemist.cache.size',
    kind: 'gauge',
    unit: 'By',
    description: 'Bytes held by the in-memory cache layer.',
  },
  cacheTokensSaved: {
    name: 'alchemist.cache.tokens_saved',
    kind: 'counter',
    unit: '{token}',
    description: 'Tokens not sent to a provider because the cache answered.',
  },
  cacheCostSaved: {
    name: 'alchemist.cache.cost_saved',
    kind: 'counter',
    unit: 'USD',
    description: 'Provider cost avoided by cache hits, in US dollars.',
  },
  rateLimitRequests: {
    name: 'alchemist.ratelimit.requests',
    kind: 'counter',
    unit: '{request}',
    description: 'Rate-limit decisions by result, scope and tier.',
  },
  rateLimitQueueDuration: {
    name: 'alchemist.ratelimit.queue.duration',
    kind: 'histogram',
    unit: 's',
    description: 'Time a call waited in an outbound (per-model) queue.',
    buckets: QUEUE_DURATION_BUCKETS,
  },
  rateLimitRemaining: {
    name: 'alchemist.ratelimit.remaining',
    kind: 'gauge',
    unit: '{request}',
    description: 'Requests each outbound (per-model) limit would admit now, read at collection time.',
  },
  breakerState: {
    name: 'alchemist.circuit_breaker.state',
    kind: 'gauge',
    unit: '{state}',
    description: '1 for the current state of each breaker, 0 for the others.',
  },
  breakerTransitions: {
    name: 'alchemist.circuit_breaker.transitions',
    kind: 'counter',
    unit: '{transition}',
    description: 'Breaker state changes, by the state entered.',
  },
  retryAttempts: {
    name: 'alchemist.retry.attempts',
    kind: 'counter',
    unit: '{attempt}',
    description: 'Upstream retries, by reason.',
  },
  fallbacks: {
    name: 'alchemist.fallback.requests',
    kind: 'counter',
    unit: '{request}',
    description: 'Calls answered by a fallback model or a stale cache entry.',
  },
  cost: {
    name: 'alchemist.cost',
    kind: 'counter',
    unit: 'USD',
    description: 'Estimated provider cost of upstream calls, in US dollars.',
  },
  budgetRequests: {
    name: 'alchemist.budget.requests',
    kind: 'counter',
    unit: '{request}',
    description: 'Budget decisions by result and tier.',
  },
  budgetSpent: {
    name: 'alchemist.budget.spent',
    kind: 'counter',
    unit: 'USD',
    description: 'Spend charged to budgets (priced usage of upstream calls), in US dollars, by tier.',
  },
  budgetUtilization: {
    name: 'alchemist.budget.utilization',
    kind: 'gauge',
    unit: '1',
    description:
      'Highest share of its budget spent this period by any tenant of the tier that this process has served, read at collection time.',
  },
  storeAvailable: {
    name: 'alchemist.store.available',
    kind: 'gauge',
    unit: '{state}',
    description: '1 while the shared store (Redis) answers, 0 while degraded.',
  },
} as const satisfies Record<string, InstrumentSpec>;

type Specs = typeof INSTRUMENT_SPECS;
type InstrumentFor<K extends Kind> = K extends 'counter'
  ? Counter
  : K extends 'histogram'
    ? Histogram
    : K extends 'updowncounter'
      ? UpDownCounter
      : Gauge;

/** The package's instruments, created once per MeterProvider. */
export type Instruments = { readonly [N in keyof Specs]: InstrumentFor<Specs[N]['kind']> };

function create(meter: Meter, spec: InstrumentSpec, owner: MeterProvider) {
  const options: MetricOptions = { unit: spec.unit, description: spec.description };
  if (spec.buckets) options.advice = { explicitBucketBoundaries: [...spec.buckets] };
  switch (spec.kind) {
    case 'counter':
      return createAccumulatingCounter(meter, spec.name, options);
    case 'histogram':
      return meter.createHistogram(spec.name, options);
    case 'updowncounter':
      return createAccumulatingUpDownCounter(meter, spec.name, options);
    case 'gauge':
      return createAccumulatingGauge(meter, spec.name, options, (result) =>
        observeReadings(spec.name, owner, result),
      );
  }
}

/**
 * `OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental` switches the GenAI metrics to the current
 * conventions' names (semantic-conventions-genai, `gen_ai.client.inference.*`) and stops the v1.41.0
 * ones, as the spec asks of instrumentations that already emit the old names.
 */
export function genAiLatestOptIn(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.OTEL_SEMCONV_STABILITY_OPT_IN ?? '')
    .split(',')
    .some((v) => v.trim() === 'gen_ai_latest_experimental');
}

/** v1.41.0 name → current name, for the instruments that were renamed. */
export const GEN_AI_LATEST_NAMES: Readonly<Record<string, string>> = {
  [METRIC_GEN_AI_CLIENT_OPERATION_DURATION]: 'gen_ai.client.inference.duration',
  [METRIC_GEN_AI_CLIENT_TIME_TO_FIRST_CHUNK]: 'gen_ai.client.inference.time_to_first_chunk',
  [METRIC_GEN_AI_CLIENT_TIME_PER_OUTPUT_CHUNK]: 'gen_ai.client.inference.time_per_output_chunk',
};

/**
 * `gen_ai.client.token.usage` {token.type=input|output} becomes two histograms in the current
 * conventions, `gen_ai.client.inference.operation.input_tokens` / `.output_tokens`, without the type.
 */
function tokenHistogramsByType(meter: Meter, spec: InstrumentSpec): Histogram {
  const options: MetricOptions = { unit: spec.unit, description: spec.description };
  if (spec.buckets) options.advice = { explicitBucketBoundaries: [...spec.buckets] };
  const input = meter.createHistogram('gen_ai.client.inference.operation.input_tokens', options);
  const output = meter.createHistogram('gen_ai.client.inference.operation.output_tokens', options);
  return {
    record(value, attributes = {}) {
      const { [ATTR_GEN_AI_TOKEN_TYPE]: type, ...rest } = attributes;
      (type === GEN_AI_TOKEN_TYPE_OUTPUT ? output : input).record(value, rest);
    },
  };
}

const byProvider = new WeakMap<MeterProvider, Instruments>();

/** The meter for this package's instrumentation scope. */
export function getMeter(meterProvider: MeterProvider = metrics.getMeterProvider()): Meter {
  return meterProvider.getMeter(PACKAGE_NAME, PACKAGE_VERSION);
}

/**
 * Instruments for a MeterProvider (the global one by default), created on first use and reused, so
 * every policy and route records into the same instruments.
 */
export function getInstruments(meterProvider: MeterProvider = metrics.getMeterProvider()): Instruments {
  let instruments = byProvider.get(meterProvider);
  if (!instruments) {
    const meter = getMeter(meterProvider);
    const latest = genAiLatestOptIn();
    const created: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(INSTRUMENT_SPECS) as [string, InstrumentSpec][]) {
      if (latest && spec.name === METRIC_GEN_AI_CLIENT_TOKEN_USAGE)
        created[key] = tokenHistogramsByType(meter, spec);
      else {
        const named = latest ? { ...spec, name: GEN_AI_LATEST_NAMES[spec.name] ?? spec.name } : spec;
        created[key] = create(meter, named, meterProvider);
      }
    }
    instruments = created as Instruments;
    byProvider.set(meterProvider, instruments);
  }
  return instruments;
}
