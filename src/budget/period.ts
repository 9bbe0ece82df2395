/** A budget's accounting period: UTC calendar days or months. */
export type BudgetPeriod = 'day' | 'month';

export const BUDGET_PERIODS: readonly BudgetPeriod[] = ['day', 'month'];

/** One concrete period: its id (part of the ledger key) and its bounds in ms since the epoch. */
export interface PeriodWindow {
  /** `2026-12-01` for a day, `2026-12` for a month. */
  readonly id: string;
  readonly startMs: number;
  /** First millisecond of the next period: when the budget resets. */
  readonly endMs: number;
}

const pad = (value: number) => String(value).padStart(2, '0');

/** The UTC calendar period that contains `nowMs`. */
export function periodAt(period: BudgetPeriod, nowMs: number): PeriodWindow {
  const at = new Date(nowMs);
  const year = at.getUTCFullYear();
  const month = at.getUTCMonth();
  if (period === 'month') {
    return {
      id: `${year}-${pad(month + 1)}`,
      startMs: Date.UTC(year, month, 1),
      endMs: Date.UTC(year, month + 1, 1),
    };
  }
  const day = at.getUTCDate();
  return {
    id: `${year}-${pad(month + 1)}-${pad(day)}`,
    startMs: Date.UTC(year, month, day),
    endMs: Date.UTC(year, month, day + 1),
  };
}
