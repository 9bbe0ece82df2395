/** Option checks shared by the limit factories: errors name the option and the bad value. */

export function positiveNumber(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive number, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function optionalPositive(name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : positiveNumber(name, value);
}

export function nonNegativeNumber(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`${name} must be a number >= 0, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new TypeError(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The limit multiplier: the option, else `RATE_LIMIT_MULTIPLIER`, else 1. Read once, at creation.
 */
export function resolveMultiplier(name: string, value: number | undefined): number {
  if (value !== undefined) return positiveNumber(name, value);
  const raw = process.env.RATE_LIMIT_MULTIPLIER;
  if (raw === undefined || raw.trim() === '') return 1;
  const parsed = Number(raw);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new TypeError(`RATE_LIMIT_MULTIPLIER must be a positive number, got ${JSON.stringify(raw)}`);
  }
  return parsed;
}

/** How many processes share the limits (their per-process fallback divides by it): 1 when not given. */
export function resolveInstances(name: string, value: number | undefined): number {
  return value === undefined ? 1 : positiveInteger(name, value);
}

/** A limit scaled by the multiplier: whole units, never below 1 (a limit of 0 would ban everyone). */
export function scaled(value: number, multiplier: number): number {
  return Math.max(1, Math.floor(value * multiplier + 1e-9));
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
