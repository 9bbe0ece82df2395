/**
 * What a provider's HTTP reply says about capacity, the same for every API: `Retry-After`, OpenAI's
 * `x-ratelimit-*` and Anthropic's `anthropic-ratelimit-*` headers, and whether a status is the
 * provider's fault. One parser, one unit (milliseconds). Headers are read through `get(name)` with
 * lowercase names, so a `Headers` object and a plain record both work.
 */

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
  // Runs several times per provider reply (capacity headers): no arrays unless a header is there.
  let found: string | undefined;
  const add = (value: unknown) => {
    if (typeof value === 'string') found = found === undefined ? value : `${found}, ${value}`;
    else if (Array.isArray(value)) for (const item of value) add(typeof item === 'string' ? item : undefined);
  };
  if (Array.isArray(headers)) {
    for (const pair of headers) {
      if (Array.isArray(pair) && String(pair[0]).toLowerCase() === wanted) add(pair[1]);
    }
  } else {
    const record = headers as Record<string, unknown>;
    for (const key in record) if (key === wanted || key.toLowerCase() === wanted) add(record[key]);
  }
  return found;
}

export type HeaderLookup = (name: string) => string | null | undefined;

/** A lookup over any header shape `headerOf` reads. */
export function headerLookup(headers: unknown): HeaderLookup {
  return (name) => headerOf(headers, name);
}

/**
 * How long the provider asks us to wait, in ms: OpenAI's `retry-after-ms`, else `Retry-After` as
 * delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Undefined when absent or unreadable.
 */
export function retryAfterMs(get: HeaderLookup, now = Date.now()): number | undefined {
  const ms = get('retry-after-ms')?.trim();
  if (ms && NUMBER.test(ms)) return Number(ms);
  return parseRetryAfter(get('retry-after'), now);
}

/** A `Retry-After` value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, in ms; undefined when unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  if (NUMBER.test(trimmed)) return Number(trimmed) * 1000;
  // All three HTTP-date forms start with a day name; `Date.parse` alone also reads '-3' or '3, 4'.
  if (!/^[A-Za-z]{3}/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** `retryAfterMs` in seconds, for errors (their `retryAfter` and the `Retry-After` they send are seconds). */
export function retryAfterSeconds(headers: unknown, now = Date.now()): number | undefined {
  const ms = retryAfterMs(headerLookup(headers), now);
  return ms === undefined ? undefined : ms / 1000;
}

const NUMBER = /^\d+(\.\d+)?$/;

/** `1h2m3.5s`, `6m0s`, `20ms` (OpenAI's reset durations) or bare seconds → ms; undefined when unreadable. */
export function parseDuration(value: string): number | undefined {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  let total = 0;
  let matched = '';
  for (const match of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    const amount = Number(match[1]);
    total += amount * UNIT_MS[match[2] as keyof typeof UNIT_MS];
    matched += match[0];
  }
  return matched.length > 0 && matched === trimmed ? total : undefined;
}

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;

function exhausted(value: string | null | undefined): boolean {
  return value !== undefined && value !== null && value.trim() !== '' && Number(value) <= 0;
}

/**
 * Milliseconds until the provider has capacity again, when its headers say a limit is used up:
 * `x-ratelimit-remaining-{requests,tokens}: 0` with `x-ratelimit-reset-*` (OpenAI, a duration), or
 * `anthropic-ratelimit-{requests,tokens}-remaining: 0` with `-reset` (an RFC 3339 time). `fallbackMs`
 * when a limit is used up but its reset is unreadable; undefined when nothing is used up.
 */
export function capacityPauseMs(get: HeaderLookup, now: number, fallbackMs: number): number | undefined {
  let pause: number | undefined;
  const consider = (ms: number) => {
    if (ms > 0) pause = Math.max(pause ?? 0, ms);
  };
  for (const kind of ['requests', 'tokens']) {
    if (exhausted(get(`x-ratelimit-remaining-${kind}`))) {
      const reset = get(`x-ratelimit-reset-${kind}`);
      consider(reset ? (parseDuration(reset) ?? fallbackMs) : fallbackMs);
    }
    if (exhausted(get(`anthropic-ratelimit-${kind}-remaining`))) {
      const reset = Date.parse(get(`anthropic-ratelimit-${kind}-reset`) ?? '');
      consider(Number.isNaN(reset) ? fallbackMs : reset - now);
    }
  }
  return pause;
}

/** A provider status that says something about its health: `429` (over capacity) or `5xx`. */
export type StatusFault = '429' | '5xx';

export function statusFault(status: number): StatusFault | undefined {
  if (status === 429) return '429';
  if (status >= 500 && status <= 599) return '5xx';
  return undefined;
}
