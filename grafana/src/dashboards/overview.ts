import { dashboard, SERVICE_NAME } from '../dashboard.ts';
import {
  higherIsBetter,
  hitRateStat,
  jaegerSearch,
  lowerIsBetter,
  row,
  stat,
  timeseries,
  valueMap,
} from '../panels.ts';
import {
  cost,
  FAILED,
  orZero,
  quantile,
  rateLimitedShare,
  requestBucket,
  requestCount,
  share,
  sumRate,
  UNIT_USD_PER_HOUR,
} from '../promql.ts';

const slowTraces = {
  title: 'Slow requests in Jaeger (≥ this value)',
  url: `\${jaeger_url}/search?service=${SERVICE_NAME}&minDuration=\${__value.raw}s&start=\${__from}000&end=\${__to}000&limit=20`,
  targetBlank: true,
};

/** Overview: traffic, errors, latency percentiles, hit rate, cost, and health at a glance. */
export function overview() {
  return dashboard({
    uid: 'alchemist-overview',
    title: 'alchemist-perf / Overview',
    description: 'Traffic, errors, latency, cache hit rate, cost and the health of breakers and Redis.',
    panels: [
      row('Health'),
      stat({
        title: 'Requests/s',
        description: 'Calls through the policies per second (alchemist.request.duration count).',
        queries: [{ expr: sumRate(requestCount()) }],
        unit: 'reqps',
      }),
      stat({
        title: 'Error ratio',
        description:
          'Share of requests that failed on our or the provider side: upstream_error, timeout, circuit_open, overloaded, error (not 4xx, not 429).',
        queries: [{ expr: share(sumRate(requestCount(FAILED)), sumRate(requestCount())) }],
        unit: 'percentunit',
        thresholds: lowerIsBetter(0.01, 0.05),
      }),
      stat({
        title: 'p95 latency',
        description:
          'End-to-end duration through the gateway, cache hits included; streams count to their last chunk.',
        queries: [{ expr: quantile(0.95, requestBucket()) }],
        unit: 's',
        thresholds: lowerIsBetter(2, 10),
        links: [slowTraces],
      }),
      hitRateStat('Cache hit rate'),
      stat({
        title: '429 ratio',
        description:
          'Share of requests rejected by a tier or concurrency limit (alchemist.outcome = rate_limited).',
        queries: [{ expr: rateLimitedShare() }],
        unit: 'percentunit',
        thresholds: lowerIsBetter(0.02, 0.1),
      }),
      stat({
        title: 'Cost rate',
        description: 'Estimated provider spend in US dollars per hour (alchemist.cost).',
        queries: [{ expr: `${orZero(sumRate(cost()))} * 3600` }],
        unit: UNIT_USD_PER_HOUR,
        thresholds: lowerIsBetter(10, 100),
      }),
      stat({
        title: 'Open breakers',
        description:
          'Breakers currently open or half-open (alchemist.circuit_breaker.state is 1 for the current state).',
        queries: [
          {
            expr: orZero(
              'sum(alchemist_circuit_breaker_state{alchemist_circuit_breaker_state=~"open|half_open"})',
            ),
          },
        ],
        thresholds: lowerIsBetter(1, 1),
      }),
      stat({
        title: 'Redis',
        description:
          'Shared store availability (alchemist.store.available): 0 on any instance means degraded.',
        queries: [{ expr: 'min(alchemist_store_available)' }],
        mappings: [valueMap({ '0': ['degraded', 'red'], '1': ['up', 'green'] })],
        thresholds: higherIsBetter(1, 1),
      }),
      stat({
        title: 'In flight',
        description: 'Calls in flight through the policies (alchemist.requests.active).',
        queries: [{ expr: 'sum(alchemist_requests_active)' }],
        thresholds: lowerIsBetter(100, 500),
      }),
      row('Traffic and latency'),
      timeseries({
        title: 'Requests by outcome',
        description:
          'success, client_error, rate_limited, overloaded, circuit_open, timeout, upstream_error, cancelled, error.',
        queries: [{ expr: sumRate(requestCount(), 'alchemist_outcome'), legend: '{{alchemist_outcome}}' }],
        unit: 'reqps',
        stack: true,
        w: 12,
      }),
      timeseries({
        title: 'Latency p50 / p95 / p99',
        description:
          'alchemist.request.duration quantiles. Click a point and follow "Slow requests in Jaeger" to list traces at least that slow.',
        queries: [
          { expr: quantile(0.5, requestBucket()), legend: 'p50' },
          { expr: quantile(0.95, requestBucket()), legend: 'p95' },
          { expr: quantile(0.99, requestBucket()), legend: 'p99' },
        ],
        unit: 's',
        w: 12,
        links: [slowTraces],
      }),
      timeseries({
        title: 'Cache results',
        description:
          'How each request met the cache: hit, stale, miss, coalesced, bypass, error, none (no cache).',
        queries: [
          { expr: sumRate(requestCount(), 'alchemist_cache_result'), legend: '{{alchemist_cache_result}}' },
        ],
        unit: 'reqps',
        stack: true,
        w: 12,
      }),
      timeseries({
        title: 'Cost by model',
        description: 'Estimated provider spend per model, US dollars per hour.',
        queries: [
          { expr: `${sumRate(cost(), 'gen_ai_request_model')} * 3600`, legend: '{{gen_ai_request_model}}' },
        ],
        unit: UNIT_USD_PER_HOUR,
        w: 12,
      }),
      row('Traces'),
      jaegerSearch({
        title: 'Recent requests slower than 1 s (Jaeger)',
        description:
          'The latest traces of the gateway that took at least 1 s; open one to see every policy decision.',
        service: SERVICE_NAME,
        minDuration: '1s',
      }),
    ],
  });
}
