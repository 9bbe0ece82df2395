import { hash } from 'node:crypto';
import type { Context } from 'hono';
import type { Identity } from '../core/identity.ts';
import { requestCredential, tenantForKey } from '../core/identity.ts';
import { requestHeader } from '../hono/headers.ts';
import type { GatewayConfig } from './config/types.ts';

function digest(key: string): string {
  return hash('sha256', key, 'hex');
}

/**
 * The client key of a request, whatever its shape (see `requestCredential`): a bearer token, any
 * other `Authorization` value, `x-api-key` (Anthropic SDKs) or `api-key` (Azure OpenAI SDKs).
 */
export function clientKey(c: Context): string | undefined {
  return requestCredential((name) => requestHeader(c, name));
}

/**
 * Map a client key to its tenant and tier. With `[[api_keys]]` configured, only listed keys pass
 * (unknown or missing → undefined → 401); keys are looked up by SHA-256 digest so the table never
 * compares raw secrets. Without configured keys, the tenant is a hash of whatever credential was
 * sent (so `Basic …` and `Token …` callers are not pooled), `anonymous` only for a request with no
 * credential at all, and the tier is `rate_limit.default_tier`.
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
