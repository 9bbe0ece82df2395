/**
 * What a provider's HTTP reply says about capacity, the same for every API: `Retry-After`, OpenAI's
 * `x-ratelimit-*` and Anthropic's `anthropic-ratelimit-*` headers, and whether a status is the
 * provider's fault. One parser, one unit (milliseconds). Headers are read through `get(name)` with
 * lowercase names, so a `Headers` object and a plain record both work.
 */

export type HeaderLookup = (name: string) => string | null | undefined;

/** Header lookup over a `Headers` object or a plain record (names compared lowercase). */
export function headerLookup(headers: Headers | Readonly<Record<string, string>> | undefined): HeaderLookup {
  if (!headers) return () => undefined;
  if (typeof (headers as Headers).get === 'function') return (name) => (headers as Headers).get(name);
  const record = headers as Readonly<Record<string, string>>;
  return (name) => {
    const exact = record[name];
    if (exact !== undefined) return exact;
    for (const key in record) if (key.toLowerCase() === name) return record[key];
    return undefined;
  };
}

/**
 * How long the provider asks us to wait, in ms: OpenAI's `retry-after-ms`, else `Retry-After` as
 * delay-seconds or an HTTP-date (RFC 9110 §10.2.3). Undefined when absent or unreadable.
 */
export function retryAfterMs(get: HeaderLookup, now = Date.now()): number | undefined {
  const ms = get('retry-after-ms')?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return Number(ms);
  const value = get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

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
