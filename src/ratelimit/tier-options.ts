import type { MeterProvider } from '@opentelemetry/api';
import type { Clock } from '../core/clock.ts';
import type { RedisConnection } from '../redis/connection.ts';
import type { BucketSpec } from './bucket.ts';
import { formatPolicy, type QuotaPolicy } from './headers.ts';
import { isRecord, optionalPositive, positiveInteger, scaled } from './validate.ts';

/** Limits of one tier (`[tiers.<name>]`). Omit a field for no limit on that dimension. */
export interface TierLimits {
  /** Steady request rate per caller. @default unlimited */
  requestsPerMinute?: number;
  /** Steady token rate per caller (prompt + completion). @default unlimited */
  tokensPerMinute?: number;
  /** Calls in flight at once per caller (streams count until they end). @default unlimited */
  maxConcurrent?: number;
  /** Requests a rested caller may send at once (bucket capacity). @default requestsPerMinute */
  burst?: number;
}

/** Options of `tierRateLimitPolicy()` / `aiRateLimit()` / `withRateLimit()`. */
export interface TierRateLimitOptions {
  /** Tiers by name. Required, at least one. */
  tiers: Record<string, TierLimits>;
  /** Tier for callers whose `ctx.tier` is not in `tiers`. @default 'default' if defined, else the only tier */
  defaultTier?: string;
  /** Scales every limit (`[rate_limit] multiplier`). @default Number(process.env.RATE_LIMIT_MULTIPLIER ?? 1) */
  multiplier?: number;
  /** Shared Redis: limits become global across processes. @default none (per-process limits) */
  redis?: RedisConnection;
  /** Processes sharing the limits; while Redis is down each enforces `limit / instances`. @default 1 */
  instances?: number;
  /** Per-process limits while Redis is down, instead of dividing by `instances`. @default none */
  fallbackTiers?: Record<string, TierLimits>;
  /** Prefix of the Redis keys. @default 'alchemist:rl:' */
  keyPrefix?: string;
  /** Output tokens reserved when a request sets no `max_tokens`/`max_completion_tokens`. @default 1024 */
  defaultOutputTokens?: number;
  /** A Redis concurrency lease expires after this long if its process dies holding it. @default 300000 */
  leaseTtlMs?: number;
  /** Time source (local buckets; Redis mode uses Redis TIME). @default Date.now */
  clock?: Clock;
  /** Where decisions are counted. @default the global MeterProvider */
  meterProvider?: MeterProvider;
}

/** Bucket specs and concurrency of one tier in one mode, with the policy it advertises. */
export interface TierSpecs {
  readonly requests: BucketSpec | undefined;
  readonly tokens: BucketSpec | undefined;
  readonly maxConcurrent: number | undefined;
  /** `RateLimit-Policy` value, when a bucket is configured. */
  readonly policyHeader: string | undefined;
  /** Bucket names in acquire order (`requests`, `tokens`). */
  readonly bucketNames: readonly string[];
}

/** A tier with the multiplier applied, for global mode and for fallback (Redis down) mode. */
export interface ResolvedTier {
  readonly name: string;
  readonly global: TierSpecs;
  readonly fallback: TierSpecs;
  /** No limit in either mode: the policy lets calls through without a decision. */
  readonly unlimited: boolean;
}

export const WINDOW_MS = 60_000;

function checkLimits(path: string, limits: unknown): TierLimits {
  if (!isRecord(limits)) throw new TypeError(`${path} must be an object, got ${JSON.stringify(limits)}`);
  const requestsPerMinute = optionalPositive(`${path}.requestsPerMinute`, limits.requestsPerMinute);
  const tokensPerMinute = optionalPositive(`${path}.tokensPerMinute`, limits.tokensPerMinute);
  const maxConcurrent =
    limits.maxConcurrent === undefined
      ? undefined
      : positiveInteger(`${path}.maxConcurrent`, limits.maxConcurrent);
  const burst = optionalPositive(`${path}.burst`, limits.burst);
  if (burst !== undefined && requestsPerMinute === undefined) {
    throw new TypeError(`${path}.burst needs ${path}.requestsPerMinute`);
  }
  return { requestsPerMinute, tokensPerMinute, maxConcurrent, burst };
}

function specs(limits: TierLimits, multiplier: number, divisor: number): TierSpecs {
  const part = (value: number) => Math.max(1, Math.floor(scaled(value, multiplier) / divisor));
  const rpm = limits.requestsPerMinute;
  const tpm = limits.tokensPerMinute;
  const requests: BucketSpec | undefined =
    rpm === undefined
      ? undefined
      : { capacity: part(limits.burst ?? rpm), perWindow: part(rpm), windowMs: WINDOW_MS };
  const tokens: BucketSpec | undefined =
    tpm === undefined ? undefined : { capacity: part(tpm), perWindow: part(tpm), windowMs: WINDOW_MS };
  const policies: QuotaPolicy[] = [];
  const bucketNames: string[] = [];
  if (requests) {
    policies.push({ name: 'requests', quota: requests.perWindow, windowSeconds: WINDOW_MS / 1000 });
    bucketNames.push('requests');
  }
  if (tokens) {
    policies.push({ name: 'tokens', quota: tokens.perWindow, windowSeconds: WINDOW_MS / 1000 });
    bucketNames.push('tokens');
  }
  return {
    requests,
    tokens,
    maxConcurrent: limits.maxConcurrent === undefined ? undefined : part(limits.maxConcurrent),
    policyHeader: policies.length > 0 ? formatPolicy(policies) : undefined,
    bucketNames,
  };
}

/** Validate tiers and apply the multiplier (and the instance split for fallback mode). */
export function resolveTiers(
  tiers: unknown,
  fallbackTiers: unknown,
  multiplier: number,
  instances: number,
): Map<string, ResolvedTier> {
  if (!isRecord(tiers) || Object.keys(tiers).length === 0) {
    throw new TypeError(
      `TierRateLimitOptions.tiers must name at least one tier, got ${JSON.stringify(tiers)}`,
    );
  }
  if (fallbackTiers !== undefined && !isRecord(fallbackTiers)) {
    throw new TypeError(
      `TierRateLimitOptions.fallbackTiers must be an object, got ${JSON.stringify(fallbackTiers)}`,
    );
  }
  const resolved = new Map<string, ResolvedTier>();
  for (const [name, raw] of Object.entries(tiers)) {
    const limits = checkLimits(`tiers.${name}`, raw);
    const explicit = fallbackTiers?.[name];
    const global = specs(limits, multiplier, 1);
    const fallback =
      explicit === undefined
        ? specs(limits, multiplier, instances)
        : specs(checkLimits(`fallbackTiers.${name}`, explicit), multiplier, 1);
    const none = (t: TierSpecs) => !t.requests && !t.tokens && t.maxConcurrent === undefined;
    resolved.set(name, { name, global, fallback, unlimited: none(global) && none(fallback) });
  }
  return resolved;
}

export function resolveDefaultTier(
  tiers: Map<string, ResolvedTier>,
  defaultTier: string | undefined,
): ResolvedTier {
  if (defaultTier !== undefined) {
    const tier = tiers.get(defaultTier);
    if (!tier) {
      throw new TypeError(
        `TierRateLimitOptions.defaultTier ${JSON.stringify(defaultTier)} is not one of the tiers (${[...tiers.keys()].join(', ')})`,
      );
    }
    return tier;
  }
  const fallback = tiers.get('default') ?? (tiers.size === 1 ? [...tiers.values()][0] : undefined);
  if (!fallback) {
    throw new TypeError(
      `TierRateLimitOptions.defaultTier is required when no tier is named 'default' (tiers: ${[...tiers.keys()].join(', ')})`,
    );
  }
  return fallback;
}
