/**
 * One header's value from any of the shapes SDKs accept for request headers: a `Headers`, an array of
 * pairs, a plain record (values may be arrays or null), or the OpenAI SDK's `{ values: Headers }`.
 * Names match case-insensitively; repeated values are joined with `, ` (RFC 9110 §5.3).
 */
export function headerOf(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const wanted = name.toLowerCase();
  if (headers instanceof Headers) return headers.get(wanted) ?? undefined;
  const values = (headers as { values?: unknown }).values;
  if (values instanceof Headers) return values.get(wanted) ?? undefined;
  const found: string[] = [];
  const add = (value: unknown) => {
    if (typeof value === 'string') found.push(value);
    else if (Array.isArray(value)) for (const item of value) if (typeof item === 'string') found.push(item);
  };
  if (Array.isArray(headers)) {
    for (const pair of headers) {
      if (Array.isArray(pair) && String(pair[0]).toLowerCase() === wanted) add(pair[1]);
    }
  } else {
    for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) add(value);
  }
  return found.length > 0 ? found.join(', ') : undefined;
}

/**
 * `Retry-After` of a provider reply in seconds: OpenAI's `retry-after-ms`, else `retry-after` as
 * delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Undefined when absent or unreadable.
 */
export function retryAfterSeconds(
  headers: Headers | Record<string, string> | undefined,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const get = (name: string) => headerOf(headers, name) ?? null;
  const ms = Number(get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms / 1000;
  const raw = get('retry-after');
  if (raw === null || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds : undefined;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}
