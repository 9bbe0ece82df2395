/**
 * PromQL building blocks that work on both naming paths:
 * - the in-process `@opentelemetry/exporter-prometheus` keeps names without a unit suffix
 *   (`alchemist_request_duration_bucket`, `alchemist_cost_total`, `process_memory_usage`);
 * - the collector's `prometheus` exporter appends the unit (`alchemist_request_duration_seconds_bucket`,
 *   `alchemist_cost_USD_total`, `process_memory_usage_bytes`; `{token}`-style units are dropped), see
 *   opentelemetry-collector-contrib `pkg/translator/prometheus/README.md`.
 * A `{__name__=~"base(_unit)?tail"}` selector matches either. Functions such as `rate()` drop the name, so
 * `sum by (le)` and `histogram_quantile` work on it unchanged. One Prometheus should see one path only.
 */

/** Collector suffix for an OTel unit (`s` → `seconds`, `By` → `bytes`, `1` → `ratio`, `{x}` → none). */
export function unitSuffix(unit: string): string {
  if (unit.startsWith('{') || unit === '') return '';
  const known: Record<string, string> = { s: 'seconds', ms: 'milliseconds', By: 'bytes', '1': 'ratio' };
  return known[unit] ?? unit;
}

/** A selector for metric `base` (the in-process name) with its collector suffix optional. */
export function metric(base: string, unit: string, tail = '', matchers = ''): string {
  const suffix = unitSuffix(unit);
  const name = suffix ? `${base}(_${suffix})?${tail}` : `${base}${tail}`;
  return `{__name__=~"${name}"${matchers ? `, ${matchers}` : ''}}`;
}

/** The range every rate uses; Grafana substitutes it (at least four scrape intervals). */
export const RATE = '$__rate_interval';

// Request-level histogram (one recording per request, cache hits included).
export const requestCount = (m = '') => metric('alchemist_request_duration', 's', '_count', m);
export const requestSum = (m = '') => metric('alchemist_request_duration', 's', '_sum', m);
export const requestBucket = (m = '') => metric('alchemist_request_duration', 's', '_bucket', m);
// GenAI semconv histograms (one recording per upstream attempt).
export const upstreamCount = (m = '') => metric('gen_ai_client_operation_duration', 's', '_count', m);
export const upstreamBucket = (m = '') => metric('gen_ai_client_operation_duration', 's', '_bucket', m);
export const firstChunkBucket = (m = '') =>
  metric('gen_ai_client_operation_time_to_first_chunk', 's', '_bucket', m);
export const tokenSum = (m = '') => metric('gen_ai_client_token_usage', '{token}', '_sum', m);
export const queueBucket = (m = '') => metric('alchemist_ratelimit_queue_duration', 's', '_bucket', m);
export const cost = (m = '') => metric('alchemist_cost', 'USD', '_total', m);
export const costSaved = (m = '') => metric('alchemist_cache_cost_saved', 'USD', '_total', m);
export const budgetSpent = (m = '') => metric('alchemist_budget_spent', 'USD', '_total', m);
export const budgetUtilization = (m = '') => metric('alchemist_budget_utilization', '1', '', m);
export const cacheSize = (m = '') => metric('alchemist_cache_size', 'By', '', m);

/**
 * Cache results that count as a lookup: every request that looked in the cache, an unreachable store
 * (`error`) included. `bypass` (no-store) never looked; `none` had no cache on its way. The one
 * definition of the hit rate (dashboards, alert, `/admin/stats`, CLI): SERVED ÷ LOOKUP.
 */
export const LOOKUP = 'alchemist_cache_result=~"hit|stale|miss|coalesced|error"';
/** Cache results answered from the cache. */
export const SERVED = 'alchemist_cache_result=~"hit|stale"';
/** Outcomes that are the gateway's or the provider's failure (not the caller's, not a limit). */
export const FAILED = 'alchemist_outcome=~"upstream_error|timeout|circuit_open|overloaded|error"';

/** `part / whole` of two scalar-like sums, where a missing `part` (nothing happened) counts as 0. */
export function share(part: string, whole: string): string {
  return `${orZero(part)}\n/\n${whole}`;
}

/** Share of all requests answered 429 by a tier or concurrency limit. */
export const rateLimitedShare = () =>
  share(sumRate(requestCount('alchemist_outcome="rate_limited"')), sumRate(requestCount()));

/** `sum(rate(sel[$__rate_interval]))`, optionally `by (labels)`. */
export function sumRate(selector: string, by = ''): string {
  return `sum${by ? ` by (${by})` : ''} (rate(${selector}[${RATE}]))`;
}

/** `histogram_quantile(q, sum by (le, ...) (rate(buckets)))`. */
export function quantile(q: number, buckets: string, by = ''): string {
  return `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${buckets}[${RATE}])))`;
}

/** Fraction of requests answered from the cache, one value per `by` group. */
export function hitRatio(by = '', extra = ''): string {
  const m = (matcher: string) => (extra ? `${matcher}, ${extra}` : matcher);
  return `${sumRate(requestCount(m(SERVED)), by)}\n/\n${sumRate(requestCount(m(LOOKUP)), by)}`;
}

/**
 * `((expr) or vector(0))`: a stat that means "none" shows 0, not "No data". The outer parentheses
 * matter: `or` binds loosest in PromQL, so `(x) or vector(0) / y` would be `x or (0 / y)`. The live
 * dashboard test evaluates the query as Grafana sends it, and separately checks that `expr` alone
 * returns series, so a misnamed metric cannot hide behind the fallback.
 */
export function orZero(expr: string): string {
  return `((${expr}) or vector(0))`;
}

/** Custom Grafana units for rates of things Grafana has no unit for. */
export const UNIT_USD_PER_HOUR = 'suffix: USD/h';
export const UNIT_SECONDS_PER_SECOND = 'suffix: s/s';
export const UNIT_TOKENS_PER_SECOND = 'suffix: tokens/s';
