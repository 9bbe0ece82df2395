import type { Secret } from './secret.ts';

export type ProviderType = 'openai' | 'anthropic';

export interface TierConfig {
  readonly requestsPerMinute?: number;
  readonly tokensPerMinute?: number;
  readonly maxConcurrent?: number;
  /** Spend allowed per tenant of the tier per period, USD. */
  readonly budgetUsd?: number;
  readonly budgetPeriod?: 'day' | 'month';
}

export interface ApiKeyConfig {
  readonly key: Secret;
  readonly tenant: string;
  readonly tier: string;
  /** The tenant's own budget, replacing its tier's. */
  readonly budgetUsd?: number;
}

export interface ProviderConfig {
  readonly name: string;
  readonly type: ProviderType;
  /** Base URL; for OpenAI-compatible providers it includes `/v1`. */
  readonly baseUrl: string;
  /** Environment variable holding the provider key. */
  readonly apiKeyEnv: string | undefined;
  /** The key itself, read from `apiKeyEnv` at load (undefined when unset). */
  readonly apiKey: Secret | undefined;
  /** Keep-alive connections in the pool. */
  readonly connections: number;
  /** True for the embedded simulated provider. */
  readonly simulated: boolean;
}

export interface ModelConfig {
  readonly provider?: string;
  readonly rateLimit?: number;
  readonly tokensPerMinute?: number;
  readonly maxConcurrent?: number;
  readonly fallbacks: readonly string[];
  readonly inputPrice?: number;
  readonly outputPrice?: number;
}

/** The resolved, validated, read-only gateway configuration (file + env + defaults). */
export interface GatewayConfig {
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly maxBodyBytes: number;
    readonly shutdownTimeoutMs: number;
  };
  readonly cache: {
    readonly enabled: boolean;
    readonly redisUrl: string | undefined;
    /** `[cache] redis_cluster` / `REDIS_CLUSTER_NODES`: Redis Cluster seed node URLs. */
    readonly redisCluster: readonly string[] | undefined;
    /** `[cache] redis_sentinel`: the master name and sentinel URLs. */
    readonly redisSentinel: { readonly name: string; readonly nodes: readonly string[] } | undefined;
    readonly redisTimeoutMs: number;
    readonly defaultTtlSeconds: number;
    readonly maxMemoryItems: number;
  };
  readonly rateLimit: {
    readonly multiplier: number;
    readonly defaultTier: string;
    readonly instances: number;
  };
  readonly tiers: Readonly<Record<string, TierConfig>>;
  /** Spend budgets: on when a tier or an API key sets `budget_usd`. */
  readonly budgets: {
    readonly enabled: boolean;
    /** `[rate_limit] budget_alert_at`: the soft threshold. */
    readonly alertAt: number;
  };
  readonly apiKeys: readonly ApiKeyConfig[];
  readonly providers: Readonly<Record<string, ProviderConfig>>;
  readonly models: Readonly<Record<string, ModelConfig>>;
  readonly breaker: {
    readonly failureThreshold: number;
    readonly halfOpenAfterSeconds: number;
    readonly timeoutSeconds: number;
    readonly maxRetries: number;
    /** Failing models that make failures the provider's (opening its provider-wide breaker). */
    readonly providerMinModels: number;
  };
  readonly admin: { readonly token: Secret | undefined };
  readonly telemetry: {
    readonly serviceName: string | undefined;
    readonly prometheusPort: number | false | undefined;
    readonly prometheusHost: string | undefined;
    readonly otlpEndpoint: string | undefined;
    /** Provider requests carry the W3C trace context of their CLIENT span. */
    readonly propagate: boolean;
  };
  /** The embedded simulated provider: on when no real provider is configured (or forced). */
  readonly simulator: {
    readonly enabled: boolean;
    readonly latencyMs: number;
    readonly jitterMs: number;
    readonly chunkDelayMs: number;
    /** Port on 127.0.0.1; 0 = any free port. */
    readonly port: number;
  };
  /** Where the config came from (the file path, or undefined for embedded defaults). */
  readonly source: string | undefined;
}
