import { dashboard } from '../dashboard.ts';
import { hitRateStat, row, stat, stateTimeline, timeseries, valueMap } from '../panels.ts';
import {
  cacheSize,
  costSaved,
  hitRatio,
  LOOKUP,
  quantile,
  RATE,
  requestBucket,
  requestCount,
  requestSum,
  sumRate,
  UNIT_SECONDS_PER_SECOND,
  UNIT_TOKENS_PER_SECOND,
  UNIT_USD_PER_HOUR,
} from '../promql.ts';

const cacheRequests = 'alchemist_cache_requests_total';
const tokensSaved = 'alchemist_cache_tokens_saved_total';

/**
 * Mean duration of successful requests with one cache result over the rate window. Only successes: a
 * miss that failed fast (503 circuit_open or overloaded) or timed out says nothing about what a hit saves.
 */
const meanDuration = (result: string) => {
  const matchers = `alchemist_cache_result="${result}", alchemist_outcome="success"`;
  return `(${sumRate(requestSum(matchers))} / ${sumRate(requestCount(matchers))})`;
};

/** Cache: results, latency and spend saved, store state. */
export function cache() {
  return dashboard({
    uid: 'alchemist-cache',
    title: 'alchemist-perf / Cache',
    description:
      'Hits, misses, stale answers and coalesced calls; latency, tokens and cost saved; store state.',
    panels: [
      row('Cache at a glance'),
      hitRateStat('Hit rate'),
      stat({
        title: 'Latency saved per hit',
        description:
          'Mean duration of a successful miss minus that of a hit: what each hit saves the caller.',
        queries: [{ expr: `${meanDuration('miss')} - ${meanDuration('hit')}` }],
        unit: 's',
      }),
      stat({
        title: 'Tokens saved',
        description: 'Tokens not sent to a provider because the cache answered, over the time range.',
        queries: [{ expr: `sum(increase(${tokensSaved}[$__range]))` }],
        unit: 'short',
      }),
      stat({
        title: 'Cost saved',
        description: 'Provider spend avoided by cache hits over the time range, US dollars.',
        queries: [{ expr: `sum(increase(${costSaved()}[$__range]))` }],
        unit: 'currencyUSD',
      }),
      stat({
        title: 'Entries in memory',
        description: 'Entries held by the in-memory layer (alchemist.cache.entries), all instances.',
        queries: [{ expr: 'sum(alchemist_cache_entries)' }],
      }),
      stat({
        title: 'Memory layer size',
        description: 'Bytes held by the in-memory layer (alchemist.cache.size), all instances.',
        queries: [{ expr: `sum(${cacheSize()})` }],
        unit: 'bytes',
      }),
      row('Lookups'),
      timeseries({
        title: 'Lookups by result and layer',
        description:
          'alchemist.cache.requests: hit, miss, stale (served past its TTL, e.g. while a breaker is open), coalesced (waited for an identical call in flight), bypass (no-store), error.',
        queries: [
          {
            expr: `sum by (alchemist_cache_result, alchemist_cache_layer) (rate(${cacheRequests}[${RATE}]))`,
            legend: '{{alchemist_cache_result}} ({{alchemist_cache_layer}})',
          },
        ],
        unit: 'reqps',
        stack: true,
        w: 12,
      }),
      timeseries({
        title: 'Hit rate by model',
        description: 'Share of lookups answered from the cache, per model.',
        queries: [{ expr: hitRatio('gen_ai_request_model'), legend: '{{gen_ai_request_model}}' }],
        unit: 'percentunit',
        min: 0,
        max: 1,
        w: 12,
      }),
      row('Latency, tokens and cost saved'),
      timeseries({
        title: 'Latency by cache result (p50, p95)',
        description: 'How long requests take when the cache hits, misses, serves stale or coalesces.',
        queries: [
          {
            expr: quantile(0.5, requestBucket(LOOKUP), 'alchemist_cache_result'),
            legend: 'p50 {{alchemist_cache_result}}',
          },
          {
            expr: quantile(0.95, requestBucket(LOOKUP), 'alchemist_cache_result'),
            legend: 'p95 {{alchemist_cache_result}}',
          },
        ],
        unit: 's',
        w: 12,
      }),
      timeseries({
        title: 'Caller time saved',
        description:
          'Seconds of waiting saved per second of wall time (s/s; 2 = two callers never waiting): (mean successful miss − mean hit duration) × hits per second.',
        queries: [
          {
            expr: `(${meanDuration('miss')} - ${meanDuration('hit')}) * ${sumRate(requestCount('alchemist_cache_result="hit"'))}`,
            legend: 'saved',
          },
        ],
        unit: UNIT_SECONDS_PER_SECOND,
        w: 12,
      }),
      timeseries({
        title: 'Tokens saved per second by model',
        description: 'alchemist.cache.tokens_saved per second (the "Tokens saved" stat is the total).',
        queries: [{ expr: sumRate(tokensSaved, 'gen_ai_request_model'), legend: '{{gen_ai_request_model}}' }],
        unit: UNIT_TOKENS_PER_SECOND,
        w: 12,
      }),
      timeseries({
        title: 'Cost saved by model',
        description: 'alchemist.cache.cost_saved, US dollars per hour.',
        queries: [
          {
            expr: `${sumRate(costSaved(), 'gen_ai_request_model')} * 3600`,
            legend: '{{gen_ai_request_model}}',
          },
        ],
        unit: UNIT_USD_PER_HOUR,
        w: 12,
      }),
      row('Store'),
      stateTimeline({
        title: 'Shared store (Redis)',
        description:
          'alchemist.store.available per instance: up, or degraded (memory layer and local limits only).',
        queries: [
          { expr: 'min by (instance, alchemist_store) (alchemist_store_available)', legend: '{{instance}}' },
        ],
        mappings: [valueMap({ '0': ['degraded', 'red'], '1': ['up', 'green'] })],
      }),
      timeseries({
        title: 'Memory layer entries',
        description: 'alchemist.cache.entries per instance.',
        queries: [{ expr: 'sum by (instance) (alchemist_cache_entries)', legend: '{{instance}}' }],
        w: 6,
      }),
      timeseries({
        title: 'Memory layer bytes',
        description: 'alchemist.cache.size per instance.',
        queries: [{ expr: `sum by (instance) (${cacheSize()})`, legend: '{{instance}}' }],
        unit: 'bytes',
        w: 6,
      }),
    ],
  });
}
