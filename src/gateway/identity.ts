import { hash } from 'node:crypto';
import type { Context } from 'hono';
import type { Identity } from '../core/identity.ts';
import { bearerToken, tenantForKey } from '../core/identity.ts';
import { requestHeader } from '../hono/headers.ts';
import type { GatewayConfig } from './config/types.ts';

function digest(key: string): string {
  return hash('sha256', key, 'hex');
}

/** The client key of a request: `Authorization: Bearer <key>`, or `x-api-key` (Anthropic-style clients). */
export function clientKey(c: Context): string | undefined {
  return bearerToken(requestHeader(c, 'authorization')) ?? requestHeader(c, 'x-api-key')?.trim() ?? undefined;
}

/**
 * Map a client key to its tenant and tier. With `[[api_keys]]` configured, only listed keys pass
 * (unknown or missing → undefined → 401); keys are looked up by SHA-256 digest so the table never
 * compares raw secrets. Without configured keys, the tenant is a hash of the key and the tier is
 * `rate_limit.default_tier`.
 */
export function createIdentify(config: GatewayConfig): (c: Context) => Identity | undefined {
  const defaultTier = config.rateLimit.defaultTier;
  if (config.apiKeys.length === 0) {
    return (c) => {
      const key = clientKey(c);
      return { tenant: key ? tenantForKey(key) : 'anonymous', tier: defaultTier };
    };
  }
  const byDigest = new Map<string, Identity>();
  for (const entry of config.apiKeys)
    byDigest.set(digest(entry.key.reveal()), { tenant: entry.tenant, tier: entry.tier });
  return (c) => {
    const key = clientKey(c);
    return key === undefined ? undefined : byDigest.get(digest(key));
  };
}

/** The tenant a client key maps to (admin `cache/clear` accepts a key instead of a tenant). */
export function tenantOfKey(config: GatewayConfig, key: string): string | undefined {
  if (config.apiKeys.length === 0) return tenantForKey(key);
  const wanted = digest(key);
  return config.apiKeys.find((entry) => digest(entry.key.reveal()) === wanted)?.tenant;
}
