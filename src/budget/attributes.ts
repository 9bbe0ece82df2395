/**
 * Span attribute and event names of budget decisions (no OTel convention exists for spend limits).
 * The tenant is already `alchemist.tenant` on the request span and never a metric attribute.
 */
export const ATTR_BUDGET_RESULT_SPAN = 'alchemist.budget.result';
export const ATTR_BUDGET_MODE = 'alchemist.budget.mode';
export const ATTR_BUDGET_USD = 'alchemist.budget.limit_usd';
export const ATTR_BUDGET_PERIOD = 'alchemist.budget.period';
export const ATTR_BUDGET_RESERVED_USD = 'alchemist.budget.reserved_usd';
export const ATTR_BUDGET_SETTLED_USD = 'alchemist.budget.settled_usd';
/** What is left of the budget after this call's reservation (and, once settled, after its charge). */
export const ATTR_BUDGET_REMAINING_USD = 'alchemist.budget.remaining_usd';

export const ATTR_BUDGET_ALERT_AT = 'alchemist.budget.alert_at';

/** Span event when a call finds the tenant past the soft threshold (`alertAt`). */
export const EVENT_BUDGET_THRESHOLD = 'alchemist.budget.threshold';

/** Response header with the USD left this period, sent once spend passes the soft threshold. */
export const HEADER_BUDGET_REMAINING = 'x-alchemist-budget-remaining';
