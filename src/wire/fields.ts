/** Small readers of untrusted JSON, shared by the wire-format modules. */

export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** A token count: a finite, non-negative number. */
export function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

export function stringField(value: unknown, name: string): string | undefined {
  const field = asRecord(value)?.[name];
  return typeof field === 'string' ? field : undefined;
}

/** The first of `names` holding a token count. */
export function firstCount(record: Record<string, unknown>, ...names: string[]): number | undefined {
  for (const name of names) {
    const value = count(record[name]);
    if (value !== undefined) return value;
  }
  return undefined;
}
