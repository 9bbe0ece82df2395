import { randomUUID } from 'node:crypto';
import { systemClock } from '../core/clock.ts';
import type { Policy } from '../core/compose.ts';
import type { CallContext } from '../core/context.ts';
import { BadRequestError, BudgetExceededError } from '../core/errors.ts';
import type { AiResult } from '../core/result.ts';
import type { RateLimiterState } from '../ratelimit/limiter.ts';
import { runAndSettle, servedFromCache } from '../ratelimit/settle.ts';
import { estimateTokens, loadTokenizer, tokenizerLoaded } from '../ratelimit/tokens.ts';
import { getInstruments } from '../telemetry/instruments.ts';
import { tierLabel } from '../telemetry/labels.ts';
import { type ModelPrice, priceOf } from '../telemetry/prices.ts';
import { ATTR_BUDGET_RESULT, ATTR_TIER } from '../telemetry/semconv.ts';
import { addSpanEvent, setSpanAttributes } from '../telemetry/spans.ts';
import {
  ATTR_BUDGET_ALERT_AT,
  ATTR_BUDGET_MODE,
  ATTR_BUDGET_PERIOD,
  ATTR_BUDGET_REMAINING_USD,
  ATTR_BUDGET_RESERVED_USD,
  ATTR_BUDGET_RESULT_SPAN,
  ATTR_BUDGET_SETTLED_USD,
  ATTR_BUDGET_USD,
  EVENT_BUDGET_THRESHOLD,
  HEADER_BUDGET_REMAINING,
} from './attributes.ts';
import type { LedgerLevel } from './ledger.ts';
import { priced, toMicros, toUsd } from './money.ts';
import type { BudgetOptions } from './options.ts';
import { resolveBudgetOptions } from './options.ts';
import { type BudgetPeriod, type PeriodWindow, periodAt } from './period.ts';
import { BudgetStore } from './store.ts';
import { UtilizationGauge } from './utilization.ts';

/** One tenant's budget now, as `GET /admin/budgets` lists it. */
export interface BudgetStatus {
  readonly tenant: string;
  readonly tier: string;
  readonly budgetUsd: number;
  /** Settled spend this period. */
  readonly spentUsd: number;
  /** Estimates held by calls in flight. */
  readonly reservedUsd: number;
  readonly period: BudgetPeriod;
  /** ISO 8601, UTC: when the period ends and spend starts again from 0. */
  readonly resetsAt: string;
}

/** The budget policy: a policy plus its state for `/readyz` and its spend report. */
export interface BudgetPolicy extends Policy<AiResult> {
  /** `{ mode: 'local' | 'redis' | 'local-fallback', degraded }`. */
  state(): RateLimiterState;
  /**
   * Budget and spend of the given callers (with a budget), and of every caller this process has
   * seen this period; sorted by tenant.
   */
  report(callers?: readonly { tenant: string; tier: string }[]): Promise<BudgetStatus[]>;
}

/** A caller's budget for this call: the tenant's own, else its tier's. */
interface Applied {
  readonly tier: string;
  readonly budget: number;
  readonly budgetUsd: number;
  readonly period: BudgetPeriod;
}

/** Callers remembered for the report. */
const SEEN_LIMIT = 1000;

const formatUsd = (micros: number) => toUsd(Math.max(0, micros)).toFixed(6);

/**
 * Spend limits per tenant and period. Before the call, its estimated cost (prompt tokens + the
 * allowed output, priced for the model) is reserved, and the call is admitted only while the
 * period's spend + every reservation held + this estimate ≤ the budget; over it, `BudgetExceededError`
 * (429 `insufficient_quota` / `budget_exceeded`, `Retry-After` until the period ends). After the call
 * the reservation is settled on the priced usage the provider reported (a stream on its final usage
 * chunk; an abandoned stream on what it produced), refunded for cache answers and calls that
 * produced nothing. Periods are UTC calendar days or months. With `redis`, spend is shared across
 * processes (one Lua script per decision, keys per tenant and period that expire after it, a
 * crashed holder's reservation expiring after `reservationTtlMs`); while Redis is down, each process
 * counts locally and `state()` says so.
 *
 * Put it inside the cache (after `aiCache()`), so a cache hit answers even over budget.
 *
 * @param options.tiers budgets per tier: `{ budgetUsd, period }`
 * @param [options.tenants] per-tenant budgets replacing the tier's
 * @param [options.alertAt=0.8] soft threshold for the `x-alchemist-budget-remaining` header
 * @param [options.redis] shared connection for budgets across processes
 * @example
 * const budgets = budgetPolicy({ tiers: { free: { budgetUsd: 1, period: 'day' } } });
 * const create = wrapCall((req) => openai.chat.completions.create(req), [budgets]);
 */
export function budgetPolicy(options: BudgetOptions): BudgetPolicy {
  const config = resolveBudgetOptions(options);
  const clock = options.clock ?? systemClock;
  const { meterProvider } = options;
  const store = new BudgetStore({
    clock,
    leaseTtlMs: config.reservationTtlMs,
    instances: config.instances,
    ...(options.redis ? { redis: options.redis } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const budgeted = [...config.tiers.values()].filter((t) => t.budgetUsd !== undefined).map((t) => t.name);
  const utilization = new UtilizationGauge(clock, budgeted, meterProvider);
  const seen = new Map<string, string>();
  const leasePrefix = randomUUID().slice(0, 8);
  let leaseCounter = 0;

  const applied = (tenant: string, tierName: string): Applied | undefined => {
    const tier = config.tiers.get(tierName) ?? config.defaultTier;
    const budgetUsd = config.tenants.get(tenant) ?? tier?.budgetUsd;
    if (budgetUsd === undefined) return undefined;
    return {
      tier: tier?.name ?? tierName,
      budget: toMicros(budgetUsd),
      budgetUsd,
      period: tier?.period ?? 'month',
    };
  };
  const keyOf = (tenant: string, window: PeriodWindow) =>
    // The tenant is hash-tagged so a Redis Cluster keeps its keys on one slot (Lua needs it).
    `${config.keyPrefix}{${tenant}}:${window.id}`;
  const priceFor = (model: string): ModelPrice | undefined => priceOf(model) ?? config.defaultPrice;

  const count = (result: 'allowed' | 'rejected', tier: string) => {
    try {
      getInstruments(meterProvider).budgetRequests.add(1, {
        [ATTR_BUDGET_RESULT]: result,
        [ATTR_TIER]: tierLabel.get(tier),
      });
    } catch {
      // Telemetry never breaks the call.
    }
  };

  return {
    name: 'budget',
    state: () => store.state(),
    async report(callers = []) {
      const now = clock.now();
      const wanted = new Map<string, string>(seen);
      for (const { tenant, tier } of callers) wanted.set(tenant, tier);
      const tenants = [...wanted].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      // One read per tenant, all in flight at once (one pipelined batch on the Redis connection).
      const statuses = await Promise.all(
        tenants.map(async ([tenant, tierName]): Promise<BudgetStatus | undefined> => {
          const budget = applied(tenant, tierName);
          if (!budget) return undefined;
          const window = periodAt(budget.period, now);
          const level = await store.read(keyOf(tenant, window));
          return {
            tenant,
            tier: budget.tier,
            budgetUsd: budget.budgetUsd,
            spentUsd: toUsd(level.spent),
            reservedUsd: toUsd(level.reserved),
            period: budget.period,
            resetsAt: new Date(window.endMs).toISOString(),
          };
        }),
      );
      return statuses.filter((status): status is BudgetStatus => status !== undefined);
    },
    async execute(ctx: CallContext, next) {
      const budget = applied(ctx.tenant, ctx.tier);
      if (!budget) return next(ctx);
      const price = priceFor(ctx.model);
      if (!price) {
        throw new BadRequestError(
          `Model '${ctx.model}' has no known price, and budgets need one: set its input_price and output_price`,
          'model_not_priced',
        );
      }
      if (!tokenizerLoaded()) await loadTokenizer();
      const estimate = estimateTokens(ctx.request, config.defaultOutputTokens);
      const cost = Math.ceil(priced(price, estimate.input, estimate.output) * 1_000_000);
      const now = clock.now();
      const window = periodAt(budget.period, now);
      const key = keyOf(ctx.tenant, window);
      const leaseId = `${leasePrefix}-${++leaseCounter}`;
      seen.delete(ctx.tenant);
      seen.set(ctx.tenant, ctx.tier);
      if (seen.size > SEEN_LIMIT) seen.delete(seen.keys().next().value as string);

      const { result, ledger, mode } = await store.reserve({
        key,
        budget: budget.budget,
        cost,
        leaseId,
        periodEndMs: window.endMs,
      });
      const track = (level: LedgerLevel) =>
        utilization.update(budget.tier, ctx.tenant, {
          spent: level.spent,
          budget: budget.budget,
          periodEndMs: window.endMs,
        });
      track(result);
      const remaining = budget.budget - result.spent - result.reserved;
      count(result.allowed ? 'allowed' : 'rejected', budget.tier);
      if (ctx.span.isRecording()) {
        setSpanAttributes(ctx.span, {
          [ATTR_BUDGET_RESULT_SPAN]: result.allowed ? 'allowed' : 'rejected',
          [ATTR_BUDGET_MODE]: mode,
          [ATTR_BUDGET_USD]: budget.budgetUsd,
          [ATTR_BUDGET_PERIOD]: budget.period,
          [ATTR_BUDGET_RESERVED_USD]: result.allowed ? toUsd(cost) : 0,
          [ATTR_BUDGET_REMAINING_USD]: toUsd(Math.max(0, remaining)),
        });
      }

      if (!result.allowed) {
        const resetsAt = new Date(window.endMs).toISOString();
        throw new BudgetExceededError(
          `Budget exceeded: $${budget.budgetUsd} per ${budget.period}, $${formatUsd(result.spent)} spent and ` +
            `$${formatUsd(result.reserved)} reserved, this call needs up to $${formatUsd(cost)}; it resets at ${resetsAt}`,
          {
            retryAfter: Math.max(1, Math.ceil((window.endMs - now) / 1000)),
            headers: { [HEADER_BUDGET_REMAINING]: formatUsd(remaining) },
          },
        );
      }
      // Soft threshold: the answer says what is left, the span records the crossing.
      let alerted = false;
      const alert = (left: number, used: number) => {
        if (used < config.alertAt * budget.budget) {
          // Settled below the threshold that the estimate crossed.
          delete ctx.decisions.headers[HEADER_BUDGET_REMAINING];
          return;
        }
        ctx.decisions.headers[HEADER_BUDGET_REMAINING] = formatUsd(left);
        if (alerted || !ctx.span.isRecording()) return;
        alerted = true;
        addSpanEvent(ctx.span, EVENT_BUDGET_THRESHOLD, {
          [ATTR_TIER]: budget.tier,
          [ATTR_BUDGET_REMAINING_USD]: toUsd(Math.max(0, left)),
          [ATTR_BUDGET_ALERT_AT]: config.alertAt,
        });
      };
      alert(remaining, result.spent + result.reserved);

      return runAndSettle(ctx, next, async (outcome) => {
        let actualUsd = 0;
        if (outcome.produced && !servedFromCache(ctx)) {
          // A fallback model is charged at its own price when it has one.
          const model = ctx.decisions.fallbackModel ?? ctx.model;
          const settlePrice = priceFor(model) ?? price;
          actualUsd = outcome.usage
            ? priced(settlePrice, outcome.usage.inputTokens, outcome.usage.outputTokens)
            : priced(settlePrice, estimate.input, outcome.output.tokens);
        }
        const actual = toMicros(actualUsd);
        const level = await store.settle(ledger, {
          key,
          leaseId,
          reservedCost: cost,
          actual,
          periodEndMs: window.endMs,
        });
        if (actualUsd > 0) {
          try {
            getInstruments(meterProvider).budgetSpent.add(actualUsd, {
              [ATTR_TIER]: tierLabel.get(budget.tier),
            });
          } catch {
            // Telemetry never breaks the call.
          }
        }
        setSpanAttributes(ctx.span, { [ATTR_BUDGET_SETTLED_USD]: toUsd(actual) });
        if (!level) return;
        track(level);
        const left = budget.budget - level.spent - level.reserved;
        setSpanAttributes(ctx.span, { [ATTR_BUDGET_REMAINING_USD]: toUsd(Math.max(0, left)) });
        // JSON answers are settled before they are returned: the header shows the settled level.
        alert(left, level.spent + level.reserved);
      });
    },
  };
}
