import type { MeterProvider } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import { isRecord, nonNegativeNumber, positiveInteger, resolveInstances } from '../ratelimit/validate.ts';
import type { RedisConnection } from '../redis/connection.ts';
import type { RedisLogger } from '../redis/failures.ts';
import type { ModelPrice } from '../telemetry/prices.ts';
import { BUDGET_PERIODS, type BudgetPeriod } from './period.ts';

/** The budget of one tier (`[tiers.<name>] budget_usd`, `budget_period`). */
export interface TierBudget {
  /** Spend allowed per tenant of this tier per period, USD. @default none (no budget) */
  budgetUsd?: number;
  /** UTC calendar period the budget applies to. @default 'month' */
  period?: BudgetPeriod;
}

/** Options of `budgetPolicy()` / `aiBudget()` / `withBudget()`. */
export interface BudgetOptions {
  /** Budgets by tier name (`ctx.tier`). Tiers not listed, or without `budgetUsd`, are not limited. */
  tiers: Record<string, TierBudget>;
  /** Per-tenant budgets replacing their tier's (`[[api_keys]] budget_usd`); the tier's period applies. @default none */
  tenants?: Record<string, { budgetUsd: number }>;
  /** Tier for callers whose `ctx.tier` is not in `tiers`. @default none (such callers have no budget) */
  defaultTier?: string;
  /** Share of the budget after which answers carry `x-alchemist-budget-remaining` and the span an event. @default 0.8 */
  alertAt?: number;
  /** Price for models with no known price. @default none: a budgeted call to such a model is refused (400 `model_not_priced`) */
  defaultPrice?: ModelPrice;
  /** Output tokens reserved when a request sets no `max_tokens`/`max_completion_tokens`. @default 1024 */
  defaultOutputTokens?: number;
  /** Shared Redis: spend is counted across processes. @default none (per-process spend) */
  redis?: RedisConnection;
  /** Processes sharing the budgets; while Redis is down each may spend its share of what was left. @default 1 */
  instances?: number;
  /** A reservation in Redis expires after this long if its process dies holding it, ms. @default 300000 */
  reservationTtlMs?: number;
  /** Prefix of the Redis keys. @default 'alchemist:budget:' */
  keyPrefix?: string;
  /** Where the switch to per-process counting and back is logged, once per change. @default OpenTelemetry's diag logger */
  logger?: RedisLogger;
  /** Time source: which period a call falls in, reservation expiry. @default Date.now */
  clock?: Clock;
  /** Where decisions are counted. @default the global MeterProvider */
  meterProvider?: MeterProvider;
}

/** A tier's budget, resolved: µUSD and its period. */
export interface ResolvedTierBudget {
  readonly name: string;
  readonly budgetUsd: number | undefined;
  readonly period: BudgetPeriod;
}

function checkUsd(path: string, value: unknown): number {
  return nonNegativeNumber(path, value);
}

export function resolveTierBudgets(tiers: unknown): Map<string, ResolvedTierBudget> {
  if (!isRecord(tiers)) {
    throw new TypeError(`BudgetOptions.tiers must be an object, got ${JSON.stringify(tiers)}`);
  }
  const resolved = new Map<string, ResolvedTierBudget>();
  for (const [name, raw] of Object.entries(tiers)) {
    const path = `BudgetOptions.tiers.${name}`;
    if (!isRecord(raw)) throw new TypeError(`${path} must be an object, got ${JSON.stringify(raw)}`);
    const period = raw.period ?? 'month';
    if (!BUDGET_PERIODS.includes(period as BudgetPeriod)) {
      throw new TypeError(`${path}.period must be "day" or "month", got ${JSON.stringify(period)}`);
    }
    resolved.set(name, {
      name,
      budgetUsd: raw.budgetUsd === undefined ? undefined : checkUsd(`${path}.budgetUsd`, raw.budgetUsd),
      period: period as BudgetPeriod,
    });
  }
  return resolved;
}

export function resolveTenantBudgets(tenants: unknown): Map<string, number> {
  const resolved = new Map<string, number>();
  if (tenants === undefined) return resolved;
  if (!isRecord(tenants)) {
    throw new TypeError(`BudgetOptions.tenants must be an object, got ${JSON.stringify(tenants)}`);
  }
  for (const [tenant, raw] of Object.entries(tenants)) {
    const path = `BudgetOptions.tenants.${tenant}`;
    if (!isRecord(raw)) throw new TypeError(`${path} must be an object, got ${JSON.stringify(raw)}`);
    resolved.set(tenant, checkUsd(`${path}.budgetUsd`, raw.budgetUsd));
  }
  return resolved;
}

/** Everything the policy needs, validated once. */
export function resolveBudgetOptions(options: BudgetOptions) {
  const tiers = resolveTierBudgets(options.tiers);
  const tenants = resolveTenantBudgets(options.tenants);
  const { defaultTier } = options;
  if (defaultTier !== undefined && !tiers.has(defaultTier)) {
    throw new TypeError(
      `BudgetOptions.defaultTier ${JSON.stringify(defaultTier)} is not one of the tiers (${[...tiers.keys()].join(', ')})`,
    );
  }
  const alertAt = nonNegativeNumber('BudgetOptions.alertAt', options.alertAt ?? 0.8);
  if (alertAt > 1) throw new TypeError(`BudgetOptions.alertAt must be between 0 and 1, got ${alertAt}`);
  const { defaultPrice } = options;
  if (defaultPrice !== undefined) {
    nonNegativeNumber('BudgetOptions.defaultPrice.input', defaultPrice.input);
    nonNegativeNumber('BudgetOptions.defaultPrice.output', defaultPrice.output);
  }
  const keyPrefix = options.keyPrefix ?? 'alchemist:budget:';
  if (typeof keyPrefix !== 'string') {
    throw new TypeError(`BudgetOptions.keyPrefix must be a string, got ${JSON.stringify(keyPrefix)}`);
  }
  return {
    tiers,
    tenants,
    defaultTier: defaultTier === undefined ? undefined : tiers.get(defaultTier),
    alertAt,
    defaultPrice,
    defaultOutputTokens: nonNegativeNumber(
      'BudgetOptions.defaultOutputTokens',
      options.defaultOutputTokens ?? 1024,
    ),
    instances: resolveInstances('BudgetOptions.instances', options.instances),
    reservationTtlMs: positiveInteger('BudgetOptions.reservationTtlMs', options.reservationTtlMs ?? 300_000),
    keyPrefix,
  };
}
