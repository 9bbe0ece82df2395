import type { BucketSnapshot } from './bucket.ts';

/**
 * `RateLimit-Policy` and `RateLimit` fields, per draft-ietf-httpapi-ratelimit-headers-11
 * (https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/): both are Structured
 * Field Lists (RFC 9651) of quota-policy Items whose value is a policy name String.
 * - `RateLimit-Policy` (§4): `q` = quota units in the window, `w` = window in seconds.
 * - `RateLimit` (§5): `r` = remaining quota units, `t` = seconds until the quota resets.
 * Our policies are token buckets refilling continuously, so `q` is the steady rate per window
 * (`requests_per_minute` → `w=60`), `r` the whole units in the bucket now, and `t` the seconds until
 * the bucket is full again (the moment the quota is entirely "reset"). Tokens have no registered
 * quota unit (`qu`), so the policy name says what is counted.
 */
export const HEADER_POLICY = 'RateLimit-Policy';
export const HEADER_STATE = 'RateLimit';

/** One advertised policy. */
export interface QuotaPolicy {
  /** `requests` or `tokens`. */
  readonly name: string;
  /** Units per window. */
  readonly quota: number;
  readonly windowSeconds: number;
}

/** `"requests";q=100;w=60, "tokens";q=10000;w=60` */
export function formatPolicy(policies: readonly QuotaPolicy[]): string {
  return policies.map((p) => `"${p.name}";q=${Math.floor(p.quota)};w=${p.windowSeconds}`).join(', ');
}

/** `"requests";r=42;t=17, "tokens";r=900;t=5` (t rounds up: never promise capacity early). */
export function formatState(names: readonly string[], snapshots: readonly BucketSnapshot[]): string {
  // A plain loop (this runs on every limited request, and again when the call settles).
  let field = '';
  for (let i = 0; i < names.length; i++) {
    const s = snapshots[i]!;
    field += `${i === 0 ? '' : ', '}"${names[i]}";r=${s.remaining};t=${Math.ceil(s.resetMs / 1000)}`;
  }
  return field;
}
