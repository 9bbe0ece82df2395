export { HEADER_BUDGET_REMAINING } from './attributes.ts';
export type { BudgetOptions, TierBudget } from './options.ts';
export type { BudgetPeriod } from './period.ts';
export type { BudgetPolicy, BudgetStatus } from './policy.ts';
export { budgetPolicy } from './policy.ts';
