import { dashboard } from '../dashboard.ts';
import { lowerIsBetter, row, stateTimeline, timeseries, valueMap } from '../panels.ts';
import {
  cost,
  firstChunkBucket,
  quantile,
  RATE,
  sumRate,
  tokenSum,
  UNIT_TOKENS_PER_SECOND,
  UNIT_USD_PER_HOUR,
  upstreamBucket,
  upstreamCount,
} from '../promql.ts';

const MODEL = 'gen_ai_request_model=~"$model"';
const BREAKER = 'alchemist_circuit_breaker_state';

/**
 * One series per breaker: 0 closed, 1 half-open, 2 open. The gauge is 1 for the current state only,
 * so keep that series and weight it by state.
 */
const breakerStateCode = `max by (alchemist_circuit_breaker_name) (
  (${BREAKER}{${BREAKER}="open"} == 1) * 2
  or (${BREAKER}{${BREAKER}="half_open"} == 1)
  or (${BREAKER}{${BREAKER}="closed"} == 1) * 0
)`;

/** Models: upstream latency, tokens, errors, breakers, retries and fallbacks per model. */
export function models() {
  return dashboard({
    uid: 'alchemist-models',
    title: 'alchemist-perf / Models',
    description: 'Upstream calls per model (GenAI semconv metrics), breaker states, retries and fallbacks.',
    variables: [
      {
        name: 'model',
        label: 'Model',
        selector: upstreamCount(),
        labelName: 'gen_ai_request_model',
      },
    ],
    panels: [
      row('Upstream calls'),
      timeseries({
        title: 'Upstream latency p95 by model',
        description:
          'gen_ai.client.operation.duration, one recording per upstream attempt (cache hits are not provider calls).',
        queries: [
          {
            expr: quantile(0.95, upstreamBucket(MODEL), 'gen_ai_request_model'),
            legend: '{{gen_ai_request_model}}',
          },
        ],
        unit: 's',
        w: 12,
      }),
      timeseries({
        title: 'Time to first chunk p95 by model',
        description: 'gen_ai.client.operation.time_to_first_chunk, streamed calls only.',
        queries: [
          {
            expr: quantile(0.95, firstChunkBucket(MODEL), 'gen_ai_request_model'),
            legend: '{{gen_ai_request_model}}',
          },
        ],
        unit: 's',
        w: 12,
      }),
      timeseries({
        title: 'Tokens/s by model and type',
        description:
          'gen_ai.client.token.usage sum per second: input and output tokens billed by the provider.',
        queries: [
          {
            expr: sumRate(tokenSum(MODEL), 'gen_ai_request_model, gen_ai_token_type'),
            legend: '{{gen_ai_request_model}} {{gen_ai_token_type}}',
          },
        ],
        unit: UNIT_TOKENS_PER_SECOND,
        w: 12,
      }),
      timeseries({
        title: 'Cost by model',
        description: 'alchemist.cost, estimated US dollars per hour.',
        queries: [
          {
            expr: `${sumRate(cost(MODEL), 'gen_ai_request_model')} * 3600`,
            legend: '{{gen_ai_request_model}}',
          },
        ],
        unit: UNIT_USD_PER_HOUR,
        w: 12,
      }),
      row('Errors and resilience'),
      timeseries({
        title: 'Upstream errors by type',
        description:
          'Failed upstream attempts per model and error.type (HTTP status, timeout, malformed reply).',
        queries: [
          {
            expr: sumRate(upstreamCount(`error_type!="", ${MODEL}`), 'gen_ai_request_model, error_type'),
            legend: '{{gen_ai_request_model}} {{error_type}}',
          },
        ],
        unit: 'reqps',
        stack: true,
        w: 12,
      }),
      timeseries({
        title: 'Upstream error ratio by model',
        description: 'Failed attempts among all attempts; the alert fires above 10% for 5 minutes.',
        queries: [
          {
            expr: `${sumRate(upstreamCount(`error_type!="", ${MODEL}`), 'gen_ai_request_model')}\n/\n${sumRate(upstreamCount(MODEL), 'gen_ai_request_model')}`,
            legend: '{{gen_ai_request_model}}',
          },
        ],
        unit: 'percentunit',
        thresholds: lowerIsBetter(0.05, 0.1),
        min: 0,
        w: 12,
      }),
      stateTimeline({
        title: 'Breaker state',
        description: 'Each breaker over time: closed, half-open (probing), open (failing fast).',
        queries: [{ expr: breakerStateCode, legend: '{{alchemist_circuit_breaker_name}}' }],
        mappings: [
          valueMap({ '0': ['closed', 'green'], '1': ['half-open', 'orange'], '2': ['open', 'red'] }),
        ],
        w: 12,
      }),
      timeseries({
        title: 'Breaker transitions',
        description: 'alchemist.circuit_breaker.transitions by breaker and state entered.',
        queries: [
          {
            expr: `sum by (alchemist_circuit_breaker_name, alchemist_circuit_breaker_state) (increase(alchemist_circuit_breaker_transitions_total[${RATE}]))`,
            legend: '{{alchemist_circuit_breaker_name}} → {{alchemist_circuit_breaker_state}}',
          },
        ],
        w: 12,
      }),
      timeseries({
        title: 'Retries by reason',
        description: 'alchemist.retry.attempts per model and reason (status, timeout, network).',
        queries: [
          {
            expr: sumRate(
              `alchemist_retry_attempts_total{${MODEL}}`,
              'gen_ai_request_model, alchemist_retry_reason',
            ),
            legend: '{{gen_ai_request_model}} {{alchemist_retry_reason}}',
          },
        ],
        unit: 'reqps',
        w: 12,
      }),
      timeseries({
        title: 'Fallbacks',
        description:
          'alchemist.fallback.requests: calls answered by a fallback model or a stale cache entry.',
        queries: [
          {
            expr: sumRate(
              `alchemist_fallback_requests_total{${MODEL}}`,
              'gen_ai_request_model, alchemist_fallback_model',
            ),
            legend: '{{gen_ai_request_model}} → {{alchemist_fallback_model}}',
          },
        ],
        unit: 'reqps',
        w: 12,
      }),
      row('Traces (collector path)'),
      timeseries({
        title: 'Upstream span latency p95 with trace exemplars',
        description:
          'From the collector span_metrics connector (CLIENT spans). Exemplar dots link to the trace in Jaeger. Empty when Prometheus scrapes the gateway directly (no collector).',
        queries: [
          {
            expr: quantile(
              0.95,
              `traces_span_metrics_duration_seconds_bucket{span_kind="SPAN_KIND_CLIENT", ${MODEL}}`,
              'gen_ai_request_model',
            ),
            legend: '{{gen_ai_request_model}}',
            exemplar: true,
          },
        ],
        unit: 's',
        w: 24,
      }),
    ],
  });
}
