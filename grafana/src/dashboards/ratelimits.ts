import { dashboard } from '../dashboard.ts';
import { lowerIsBetter, row, stat, timeseries } from '../panels.ts';
import {
  budgetSpent,
  budgetUtilization,
  orZero,
  quantile,
  queueBucket,
  rateLimitedShare,
  requestCount,
  sumRate,
} from '../promql.ts';

const TIER = 'alchemist_tier=~"$tier"';
/** The inbound limiter's decisions (scope tier or concurrency); the outbound one's scope is `model`. */
const INBOUND = 'alchemist_ratelimit_scope!="model"';
const decisions = (matchers: string) => `alchemist_ratelimit_requests_total{${matchers}}`;
const budgetDecisions = (matchers: string) => `alchemist_budget_requests_total{${matchers}}`;

/** Rate limits: allowed, queued and rejected by tier and model; queue wait; remaining capacity; budgets. */
export function ratelimits() {
  return dashboard({
    uid: 'alchemist-ratelimits',
    title: 'alchemist-perf / Rate Limits',
    description: 'Tier limits (inbound, 429 at once) and per-model limits (outbound, queue then reject).',
    variables: [
      {
        name: 'tier',
        label: 'Tier',
        selector: 'alchemist_ratelimit_requests_total',
        labelName: 'alchemist_tier',
      },
    ],
    panels: [
      row('Decisions'),
      stat({
        title: '429 ratio',
        description: 'Share of all requests answered 429 by a tier or concurrency limit.',
        queries: [{ expr: rateLimitedShare() }],
        unit: 'percentunit',
        thresholds: lowerIsBetter(0.02, 0.1),
        w: 6,
      }),
      stat({
        title: 'Rejected/s',
        description: 'alchemist.ratelimit.requests with result = rejected, every scope, selected tiers.',
        queries: [{ expr: orZero(sumRate(decisions(`alchemist_ratelimit_result="rejected", ${TIER}`))) }],
        unit: 'reqps',
        thresholds: lowerIsBetter(0.1, 1),
        w: 6,
      }),
      stat({
        title: 'Queued/s',
        description: 'Calls that waited in a per-model (outbound) queue before going upstream.',
        queries: [{ expr: orZero(sumRate(decisions(`alchemist_ratelimit_result="queued", ${TIER}`))) }],
        unit: 'reqps',
        thresholds: lowerIsBetter(1, 10),
        w: 6,
      }),
      stat({
        title: 'Overloaded (503)/s',
        description: 'Calls refused because a model queue was full (alchemist.outcome = overloaded).',
        queries: [{ expr: orZero(sumRate(requestCount('alchemist_outcome="overloaded"'))) }],
        unit: 'reqps',
        thresholds: lowerIsBetter(0.01, 0.5),
        w: 6,
      }),
      timeseries({
        title: 'Tier decisions by result and tier',
        description:
          'Inbound (tier) limiter: allowed or rejected (by its request, token or concurrency limit), per caller tier. Outbound (per-model) decisions are on "Outbound decisions by model".',
        queries: [
          {
            expr: sumRate(decisions(`${INBOUND}, ${TIER}`), 'alchemist_ratelimit_result, alchemist_tier'),
            legend: '{{alchemist_ratelimit_result}} {{alchemist_tier}}',
          },
        ],
        unit: 'reqps',
        stack: true,
        w: 12,
      }),
      timeseries({
        title: 'Rejections by scope',
        description: 'Which limit rejected: tier (requests or tokens per minute), model, or concurrency.',
        queries: [
          {
            expr: sumRate(
              decisions(`alchemist_ratelimit_result="rejected", ${TIER}`),
              'alchemist_ratelimit_scope',
            ),
            legend: '{{alchemist_ratelimit_scope}}',
          },
        ],
        unit: 'reqps',
        stack: true,
        w: 12,
      }),
      timeseries({
        title: 'Outbound decisions by model',
        description:
          'Per-model (outbound) limiter: allowed at once, queued for capacity, or rejected (503 overloaded), per model.',
        queries: [
          {
            expr: sumRate(
              decisions(`alchemist_ratelimit_scope="model", ${TIER}`),
              'gen_ai_request_model, alchemist_ratelimit_result',
            ),
            legend: '{{gen_ai_request_model}} {{alchemist_ratelimit_result}}',
          },
        ],
        unit: 'reqps',
        w: 12,
      }),
      timeseries({
        title: '429 responses by model',
        description: 'Requests that ended rate_limited (429 + Retry-After), per model.',
        queries: [
          {
            expr: sumRate(requestCount('alchemist_outcome="rate_limited"'), 'gen_ai_request_model'),
            legend: '{{gen_ai_request_model}}',
          },
        ],
        unit: 'reqps',
        w: 12,
      }),
      row('Queues and capacity'),
      timeseries({
        title: 'Queue wait p50 / p95 by model',
        description: 'alchemist.ratelimit.queue.duration: time a call waited for outbound capacity.',
        queries: [
          {
            expr: quantile(0.5, queueBucket(), 'gen_ai_request_model'),
            legend: 'p50 {{gen_ai_request_model}}',
          },
          {
            expr: quantile(0.95, queueBucket(), 'gen_ai_request_model'),
            legend: 'p95 {{gen_ai_request_model}}',
          },
        ],
        unit: 's',
        w: 12,
      }),
      timeseries({
        title: 'Remaining capacity by model',
        description:
          'alchemist.ratelimit.remaining: requests each outbound limit would admit now (read when metrics are collected, so it refills without traffic; lowest instance).',
        queries: [
          {
            expr: 'min by (gen_ai_request_model, alchemist_ratelimit_scope) (alchemist_ratelimit_remaining)',
            legend: '{{gen_ai_request_model}} {{alchemist_ratelimit_scope}}',
          },
        ],
        w: 12,
      }),
      row('Budgets'),
      stat({
        title: 'Budget spent',
        description:
          'Spend charged to budgets over the time range (alchemist.budget.spent: priced usage of upstream calls; cache hits cost nothing), selected tiers, US dollars.',
        queries: [{ expr: orZero(`sum(increase(${budgetSpent(TIER)}[$__range]))`) }],
        unit: 'currencyUSD',
        w: 6,
      }),
      stat({
        title: 'Over-budget rejections',
        description: 'Calls answered 429 budget_exceeded over the time range, selected tiers.',
        queries: [
          {
            expr: orZero(
              `sum(increase(${budgetDecisions(`alchemist_budget_result="rejected", ${TIER}`)}[$__range]))`,
            ),
          },
        ],
        thresholds: lowerIsBetter(1, 100),
        w: 6,
      }),
      timeseries({
        title: 'Budget utilization by tier',
        description:
          'alchemist.budget.utilization: the highest share of its budget any tenant of the tier has spent this period (highest instance). The AlchemistBudgetNearlySpent alert fires above 80%.',
        queries: [
          {
            expr: `max by (alchemist_tier) (${budgetUtilization(TIER)})`,
            legend: '{{alchemist_tier}}',
          },
        ],
        unit: 'percentunit',
        thresholds: lowerIsBetter(0.8, 1),
        min: 0,
        w: 12,
      }),
    ],
  });
}
