/**
 * A value in a form that survives `JSON.stringify` + `JSON.parse` (a Redis cache entry) and comes back
 * as it was: `Date`s and byte arrays, which AI SDK results carry (response timestamps, generated
 * files), are tagged; `URL`s become strings; functions and `undefined` members are dropped.
 */
const TAG = '__alchemist_type';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function toJsonSafe(value: unknown): Json {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return null;
  }
  if (value instanceof Date) return { [TAG]: 'date', value: value.toISOString() };
  if (value instanceof Uint8Array) return { [TAG]: 'bytes', value: Buffer.from(value).toString('base64') };
  if (value instanceof ArrayBuffer) {
    return { [TAG]: 'bytes', value: Buffer.from(new Uint8Array(value)).toString('base64') };
  }
  if (value instanceof URL) return value.href;
  if (Array.isArray(value)) return value.map((item) => toJsonSafe(item));
  if (value instanceof Error) return { name: value.name, message: value.message };
  const out: { [key: string]: Json } = {};
  for (const [key, member] of Object.entries(value)) {
    if (member === undefined || typeof member === 'function') continue;
    out[key] = toJsonSafe(member);
  }
  return out;
}

/** The inverse of {@link toJsonSafe}. */
export function fromJsonSafe(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => fromJsonSafe(item));
  const record = value as Record<string, unknown>;
  const tag = record[TAG];
  if (tag === 'date' && typeof record.value === 'string') return new Date(record.value);
  if (tag === 'bytes' && typeof record.value === 'string') {
    return new Uint8Array(Buffer.from(record.value, 'base64'));
  }
  const out: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(record)) out[key] = fromJsonSafe(member);
  return out;
}
