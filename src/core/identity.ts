import { hash } from 'node:crypto';

/** Who is calling: an isolation scope for cache entries and limits, and a rate-limit tier. */
export interface Identity {
  readonly tenant: string;
  readonly tier: string;
}

/**
 * A stable, non-reversible tenant id for an API key: the key itself must never be stored, logged or
 * put on telemetry.
 */
export function tenantForKey(key: string): string {
  return `key-${hash('sha256', key, 'hex').slice(0, 16)}`;
}

/** The bearer token of an `Authorization` header, or undefined. */
export function bearerToken(header: string | null | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
