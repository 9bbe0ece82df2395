/**
 * `Cache-Status` values (RFC 9211): the cache's name, then `hit` or `fwd=<reason>` and parameters.
 * https://www.rfc-editor.org/rfc/rfc9211
 */
export const CACHE_NAME = 'alchemist-perf';

export type ForwardReason = 'bypass' | 'miss' | 'request' | 'stale';

export interface CacheStatusParams {
  /** Served from cache without going upstream (RFC 9211 §2.1). */
  hit?: boolean;
  /** Why the request went upstream (§2.2): `miss`, `request` (no-cache / max-age), `stale`, `bypass`. */
  fwd?: ForwardReason;
  /** Status the upstream answered with, when it is worth telling (§2.3). */
  fwdStatus?: number;
  /** Remaining freshness in seconds; negative when the answer served is stale (§2.4). */
  ttl?: number;
  /** The answer was stored (§2.5). */
  stored?: boolean;
  /** The request was collapsed into another one already in flight (§2.6). */
  collapsed?: boolean;
  /** Implementation detail (§2.8), e.g. `no-store`, `stale-if-error`, `store-unavailable`. */
  detail?: string;
}

/** Format one `Cache-Status` member, e.g. `alchemist-perf; hit; ttl=3541`. */
export function formatCacheStatus(params: CacheStatusParams): string {
  const parts = [CACHE_NAME];
  if (params.hit) parts.push('hit');
  if (params.fwd) parts.push(`fwd=${params.fwd}`);
  if (params.fwdStatus !== undefined) parts.push(`fwd-status=${params.fwdStatus}`);
  if (params.ttl !== undefined) parts.push(`ttl=${Math.floor(params.ttl)}`);
  if (params.stored) parts.push('stored');
  if (params.collapsed) parts.push('collapsed');
  if (params.detail) parts.push(`detail=${params.detail}`);
  return parts.join('; ');
}
