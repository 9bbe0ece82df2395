import type { SeriesPlan } from '../telemetry/prime.ts';
import type { GatewayConfig } from './config/types.ts';
import type { ProviderRegistry } from './providers/registry.ts';

/** The label values this gateway's decisions can carry: its models, their providers, tiers and cache layers. */
export function seriesPlan(config: GatewayConfig, registry: ProviderRegistry): SeriesPlan {
  return {
    models: Object.entries(config.models).map(([model, entry]) => ({
      model,
      provider: registry.resolve(model),
      genAiProvider: registry.get(registry.resolve(model))?.type ?? registry.resolve(model),
      fallbacks: entry.fallbacks,
      outboundLimit:
        entry.rateLimit !== undefined ||
        entry.tokensPerMinute !== undefined ||
        entry.maxConcurrent !== undefined,
    })),
    tiers: [...new Set([...Object.keys(config.tiers), config.rateLimit.defaultTier])],
    cacheLayers: config.cache.enabled ? (config.cache.redisUrl ? ['memory', 'redis'] : ['memory']) : [],
    budgetTiers: [
      ...new Set([
        ...Object.entries(config.tiers)
          .filter(([, tier]) => tier.budgetUsd !== undefined)
          .map(([name]) => name),
        ...config.apiKeys.filter((entry) => entry.budgetUsd !== undefined).map((entry) => entry.tier),
      ]),
    ],
  };
}
