/** Option checks that fail at creation with a message naming the option and the bad value. */

function fail(owner: string, name: string, expected: string, value: unknown): never {
  throw new TypeError(
    `${owner}: '${name}' must be ${expected}, got ${JSON.stringify(value) ?? String(value)}`,
  );
}

export function integerAtLeast(owner: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    fail(owner, name, `an integer >= ${min}`, value);
  }
  return value;
}

export function positiveMs(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(owner, name, 'a positive number of milliseconds', value);
  }
  return value;
}

export function nonNegativeMs(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(owner, name, 'a number of milliseconds >= 0', value);
  }
  return value;
}

export function ratio(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) fail(owner, name, 'a ratio in (0, 1]', value);
  return value;
}

export function oneOf<T extends string>(
  owner: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    fail(owner, name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
  return value as T;
}

export function boolean(owner: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(owner, name, 'a boolean', value);
  return value;
}

export function func<T>(owner: string, name: string, value: unknown): T {
  if (typeof value !== 'function') fail(owner, name, 'a function', value);
  return value as T;
}

export function positiveSeconds(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(owner, name, 'a positive number of seconds', value);
  }
  return value;
}
