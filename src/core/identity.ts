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

/** Headers a client credential comes in, in order of precedence (`api-key` is Azure OpenAI's). */
const CREDENTIAL_HEADERS = ['x-api-key', 'api-key'] as const;

/**
 * The credential a request carries, whatever its shape, so that two callers share a tenant only
 * when they send the same secret: the token of `Authorization: Bearer <token>`; any other
 * `Authorization` value whole (`Basic …`, `Token …`, with the scheme lower-cased as RFC 9110 §11.1
 * makes it case-insensitive), where a bare value is a raw key and so equals the same key sent as a
 * bearer token; else the `x-api-key` header; else `api-key`. Undefined when none is sent.
 *
 * @param header reads a request header by lower-case name
 */
export function requestCredential(header: (name: string) => string | null | undefined): string | undefined {
  const authorization = header('authorization')?.trim();
  if (authorization) {
    const bearer = bearerToken(authorization);
    if (bearer !== undefined) return bearer;
    const schemed = /^(\S+)\s+(.+)$/.exec(authorization);
    return schemed ? `${schemed[1]!.toLowerCase()} ${schemed[2]!.replace(/\s+/g, ' ')}` : authorization;
  }
  for (const name of CREDENTIAL_HEADERS) {
    const value = header(name)?.trim();
    if (value) return value;
  }
  return undefined;
}
