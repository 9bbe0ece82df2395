import type { BudgetOptions, BudgetPolicy } from '../budget/index.ts';
import { budgetPolicy } from '../budget/index.ts';
import type { CallContext } from '../core/context.ts';
import type { AiRequest, CallOptions, WrapOptions } from './wrap.ts';
import { wrapCall } from './wrap.ts';

/** Options of `withBudget()`: budgets (or a shared `policy`) plus the wrapper's own options. */
export type WithBudgetOptions<Req extends AiRequest = AiRequest> = (
  | BudgetOptions
  | { policy: BudgetPolicy }
) &
  WrapOptions<Req>;

/**
 * Wrap an SDK call in a spend budget (see `budgetPolicy`). Over budget the call rejects at once with
 * `BudgetExceededError` (`retryAfter` until the period ends); tenant and tier come from the wrapper
 * options or the per-call options.
 *
 * @example
 * const create = withBudget((req) => openai.chat.completions.create(req), {
 *   tiers: { free: { budgetUsd: 5, period: 'day' } },
 *   tenant: 'team-a',
 *   tier: 'free',
 * });
 */
export function withBudget<Req extends AiRequest, Res>(
  fn: (request: Req, options: { signal: AbortSignal; ctx: CallContext }) => Promise<Res>,
  options: WithBudgetOptions<Req>,
): ((request: Req, callOptions?: CallOptions) => Promise<Res>) & Pick<BudgetPolicy, 'state' | 'report'> {
  const policy =
    'policy' in options && options.policy ? options.policy : budgetPolicy(options as BudgetOptions);
  const wrapped = wrapCall(fn, [policy], options);
  return Object.assign(wrapped, {
    state: () => policy.state(),
    report: (callers?: Parameters<BudgetPolicy['report']>[0]) => policy.report(callers),
  });
}
