import type { MiddlewareHandler } from 'hono';
import { HEADER_BUDGET_REMAINING } from '../budget/attributes.ts';
import type { BudgetOptions, BudgetPolicy } from '../budget/index.ts';
import { budgetPolicy } from '../budget/index.ts';
import type { CallContext } from '../core/context.ts';
import type { OnRejected } from './policy.ts';
import { policyMiddleware } from './policy.ts';

/** Options of `aiBudget()`: the budgets, or an existing policy to share, plus the rejection hook. */
export type AiBudgetOptions = (BudgetOptions | { policy: BudgetPolicy }) & {
  /** Replace the 429 response (it still gets `Retry-After` only if you set it). @default OpenAI-style JSON */
  onRejected?: OnRejected;
};

/** A middleware with the budget's state (for `/readyz`) and its spend report. */
export type AiBudgetMiddleware = MiddlewareHandler & Pick<BudgetPolicy, 'state' | 'report'>;

/** The `x-alchemist-budget-remaining` header the budget decided for this call (past the soft threshold). */
export function budgetHeaders(ctx: CallContext): Record<string, string> {
  const remaining = ctx.decisions.headers[HEADER_BUDGET_REMAINING];
  return remaining === undefined ? {} : { [HEADER_BUDGET_REMAINING]: remaining };
}

/**
 * Spend limits per tenant as Hono middleware (see `budgetPolicy`). Over budget the request ends with
 * 429 `insufficient_quota` / `budget_exceeded` and `Retry-After` until the period ends. Put it after
 * `aiCache()`, so cache hits still answer (they cost nothing).
 *
 * @param options budgets (`tiers`, `tenants`, `alertAt`, `redis`...) or `{ policy }`
 * @example
 * const budgets = aiBudget({ tiers: { free: { budgetUsd: 5, period: 'day' } } });
 * app.use('/v1/*', aiContext(), aiCache(), budgets);
 * app.get('/budgets', async (c) => c.json(await budgets.report()));
 */
export function aiBudget(options: AiBudgetOptions): AiBudgetMiddleware {
  const policy = 'policy' in options ? options.policy : budgetPolicy(options);
  const middleware = policyMiddleware('aiBudget', policy, {
    headers: budgetHeaders,
    ...(options.onRejected ? { onRejected: options.onRejected } : {}),
  });
  return Object.assign(middleware, {
    state: () => policy.state(),
    report: (callers?: Parameters<BudgetPolicy['report']>[0]) => policy.report(callers),
  });
}
