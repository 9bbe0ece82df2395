import { OTHER_MODELS } from '../breaker/registry.ts';
import type { Resilience } from '../breaker/resilience.ts';
import { createResilience } from '../breaker/resilience.ts';
import type { BudgetPolicy, TierBudget } from '../budget/index.ts';
import { budgetPolicy } from '../budget/index.ts';
import type { CachePolicy } from '../cache/policy.ts';
import { aiCachePolicy } from '../cache/policy.ts';
import type {
  ModelLimits,
  ModelRateLimitPolicy,
  TierLimits,
  TierRateLimitPolicy,
} from '../ratelimit/index.ts';
import { modelRateLimitPolicy, tierRateLimitPolicy } from '../ratelimit/index.ts';
import type { RedisConnection } from '../redis/connection.ts';
import { createRedisConnection } from '../redis/connection.ts';
import { modelLabel } from '../telemetry/labels.ts';
import { setModelPrice } from '../telemetry/prices.ts';
import type { GatewayConfig } from './config/types.ts';
import type { Logger } from './log.ts';
import { silentLogger } from './log.ts';
import type { ProviderRegistry } from './providers/registry.ts';

/** The stateful pieces of one gateway, created once from the config and shared by every request. */
export interface GatewayPolicies {
  /** The shared Redis connection (cache + limits), when `cache.redis_url`, `redis_cluster` or `redis_sentinel` is set. */
  readonly redis: RedisConnection | undefined;
  readonly cache: CachePolicy;
  readonly tierLimit: TierRateLimitPolicy;
  /** Spend budgets (`budget_usd`); lets every call through when none is configured. */
  readonly budget: BudgetPolicy;
  readonly modelLimit: ModelRateLimitPolicy;
  readonly resilience: Resilience;
  /** A tier or a model limits tokens, or budgets are on: requests are estimated with the tokenizer (loaded at start). */
  readonly limitsTokens: boolean;
  close(): Promise<void>;
}

/** Build the cache, limiters and breakers from the resolved config; Redis failures are logged to `logger`. */
export function createGatewayPolicies(
  config: GatewayConfig,
  registry: ProviderRegistry,
  logger: Logger = silentLogger,
): GatewayPolicies {
  // Configured models keep their own metric label however many names clients send.
  modelLabel.reserve(Object.entries(config.models).flatMap(([name, model]) => [name, ...model.fallbacks]));
  for (const [model, entry] of Object.entries(config.models)) {
    if (entry.inputPrice !== undefined || entry.outputPrice !== undefined) {
      setModelPrice(model, { input: entry.inputPrice ?? 0, output: entry.outputPrice ?? 0 });
    }
  }
  const { redisUrl, redisCluster, redisSentinel } = config.cache;
  const target = redisCluster
    ? { cluster: redisCluster }
    : redisSentinel
      ? { sentinel: redisSentinel }
      : redisUrl
        ? { url: redisUrl }
        : undefined;
  const redis = target
    ? createRedisConnection({ ...target, commandTimeoutMs: config.cache.redisTimeoutMs, logger })
    : undefined;

  const cache = aiCachePolicy({
    enabled: config.cache.enabled,
    ttl: config.cache.defaultTtlSeconds,
    maxMemoryItems: config.cache.maxMemoryItems,
    ...(redis ? { redis } : {}),
  });

  const tiers: Record<string, TierLimits> = {};
  const tierBudgets: Record<string, TierBudget> = {};
  for (const [name, tier] of Object.entries(config.tiers)) {
    const { budgetUsd, budgetPeriod, ...limits } = tier;
    tiers[name] = limits;
    tierBudgets[name] = {
      ...(budgetUsd !== undefined ? { budgetUsd } : {}),
      ...(budgetPeriod !== undefined ? { period: budgetPeriod } : {}),
    };
  }
  const tierLimit = tierRateLimitPolicy({
    tiers,
    defaultTier: config.rateLimit.defaultTier,
    multiplier: config.rateLimit.multiplier,
    instances: config.rateLimit.instances,
    ...(redis ? { redis } : {}),
  });

  const tenantBudgets: Record<string, { budgetUsd: number }> = {};
  for (const entry of config.apiKeys)
    if (entry.budgetUsd !== undefined) tenantBudgets[entry.tenant] = { budgetUsd: entry.budgetUsd };
  const budget = budgetPolicy({
    tiers: tierBudgets,
    tenants: tenantBudgets,
    defaultTier: config.rateLimit.defaultTier,
    alertAt: config.budgets.alertAt,
    instances: config.rateLimit.instances,
    logger,
    ...(redis ? { redis } : {}),
  });

  const models: Record<string, ModelLimits> = {};
  const fallbacks: Record<string, readonly string[]> = {};
  for (const [name, model] of Object.entries(config.models)) {
    const limits: ModelLimits = {
      ...(model.rateLimit !== undefined ? { requestsPerMinute: model.rateLimit } : {}),
      ...(model.tokensPerMinute !== undefined ? { tokensPerMinute: model.tokensPerMinute } : {}),
      ...(model.maxConcurrent !== undefined ? { maxConcurrent: model.maxConcurrent } : {}),
    };
    // Every configured model gets a gate, limits or not, so a provider 429 pauses it (Retry-After).
    models[name] = limits;
    if (model.fallbacks.length > 0) fallbacks[name] = model.fallbacks;
  }
  const modelLimit = modelRateLimitPolicy({
    models,
    multiplier: config.rateLimit.multiplier,
    instances: config.rateLimit.instances,
    ...(redis ? { redis } : {}),
  });

  const resilience = createResilience({
    failureThreshold: config.breaker.failureThreshold,
    providerMinModels: config.breaker.providerMinModels,
    models: breakerModels(config, registry),
    halfOpenAfterMs: config.breaker.halfOpenAfterSeconds * 1000,
    timeoutMs: config.breaker.timeoutSeconds * 1000,
    maxRetries: config.breaker.maxRetries,
    fallbacks,
    resolveProvider: (model) => registry.resolve(model),
    genAiProvider: (name) => registry.get(name)?.type ?? name,
    perAttempt: [modelLimit],
  });

  return {
    redis,
    cache,
    tierLimit,
    budget,
    modelLimit,
    resilience,
    limitsTokens:
      config.budgets.enabled ||
      Object.values(tiers).some((tier) => tier.tokensPerMinute !== undefined) ||
      Object.values(models).some((model) => model.tokensPerMinute !== undefined),
    async close() {
      await Promise.allSettled([cache.close()]);
      await redis?.close();
    },
  };
}

/**
 * Which models get their own breaker, by provider: the configured models and the fallbacks they name.
 * Every other model name (chosen by clients) shares its provider's `_OTHER` breaker, created up front
 * for the providers that serve unlisted models, so request-chosen names never create state.
 */
function breakerModels(config: GatewayConfig, registry: ProviderRegistry): Record<string, string[]> {
  const byProvider: Record<string, string[]> = {};
  const add = (provider: string, model: string) => {
    const list = byProvider[provider] ?? [];
    if (!list.includes(model)) list.push(model);
    byProvider[provider] = list;
  };
  for (const [name, model] of Object.entries(config.models)) {
    for (const listed of [name, ...model.fallbacks]) add(registry.resolve(listed), listed);
  }
  for (const provider of registry.catchAll) add(provider, OTHER_MODELS);
  return byProvider;
}
