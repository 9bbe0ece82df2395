import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { priceOf } from '../../telemetry/prices.ts';
import type { Env } from './env.ts';
import { applyEnv, envValue } from './env.ts';
import { ConfigError, describeIssues } from './errors.ts';
import type { ConfigFile } from './schema.ts';
import { fileSchema } from './schema.ts';
import { Secret } from './secret.ts';
import type { GatewayConfig, ModelConfig, ProviderConfig, TierConfig } from './types.ts';

export interface LoadConfigOptions {
  /** TOML file to read. @default env.ALCHEMIST_CONFIG (none: embedded defaults) */
  path?: string;
  /** TOML text to parse instead of a file (tests, embedding). @default undefined */
  text?: string;
  /** Environment for overrides, provider keys and ADMIN_TOKEN. @default process.env */
  env?: Env;
}

/** Tiers used when the file defines none: enough for a demo, scaled by `rate_limit.multiplier`. */
export const DEFAULT_TIERS: Readonly<Record<string, TierConfig>> = {
  free: { requestsPerMinute: 60, tokensPerMinute: 100_000, maxConcurrent: 10 },
  pro: { requestsPerMinute: 600, tokensPerMinute: 1_000_000, maxConcurrent: 50 },
  enterprise: { requestsPerMinute: 6000, tokensPerMinute: 10_000_000, maxConcurrent: 200 },
};

const BUILTIN_PROVIDERS = {
  openai: { type: 'openai', baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' },
  anthropic: { type: 'anthropic', baseUrl: 'https://api.anthropic.com', apiKeyEnv: 'ANTHROPIC_API_KEY' },
} as const;

function fail(problems: string[], source?: string): never {
  throw new ConfigError(problems, source);
}

function tiersOf(file: ConfigFile): Record<string, TierConfig> {
  if (!file.tiers || Object.keys(file.tiers).length === 0) return { ...DEFAULT_TIERS };
  const tiers: Record<string, TierConfig> = {};
  for (const [name, tier] of Object.entries(file.tiers)) {
    tiers[name] = {
      ...(tier.requests_per_minute !== undefined ? { requestsPerMinute: tier.requests_per_minute } : {}),
      ...(tier.tokens_per_minute !== undefined ? { tokensPerMinute: tier.tokens_per_minute } : {}),
      ...(tier.max_concurrent !== undefined ? { maxConcurrent: tier.max_concurrent } : {}),
      ...(tier.budget_usd !== undefined ? { budgetUsd: tier.budget_usd } : {}),
      ...(tier.budget_period !== undefined ? { budgetPeriod: tier.budget_period } : {}),
    };
  }
  return tiers;
}

function providersOf(file: ConfigFile, env: Env, simulated: boolean): Record<string, ProviderConfig> {
  const declared = file.providers ?? {};
  const providers: Record<string, ProviderConfig> = {};
  // Declared providers replace the built-in ones; without any, OpenAI and Anthropic are predefined.
  const names = new Set(
    Object.keys(declared).length > 0 ? Object.keys(declared) : Object.keys(BUILTIN_PROVIDERS),
  );
  for (const name of names) {
    const builtin = BUILTIN_PROVIDERS[name as keyof typeof BUILTIN_PROVIDERS];
    const entry = declared[name];
    const type = entry?.type ?? builtin?.type;
    if (!type) continue;
    const sameType = builtin?.type === type ? builtin : undefined;
    const baseUrl = entry?.base_url ?? sameType?.baseUrl ?? BUILTIN_PROVIDERS[type].baseUrl;
    const apiKeyEnv = entry?.api_key_env ?? sameType?.apiKeyEnv;
    const key = apiKeyEnv ? envValue(env, apiKeyEnv) : undefined;
    providers[name] = {
      name,
      type,
      baseUrl: baseUrl.replace(/\/+$/, ''),
      apiKeyEnv,
      apiKey: key === undefined ? undefined : new Secret(key),
      connections: entry?.connections ?? 64,
      simulated,
    };
  }
  return providers;
}

function modelsOf(file: ConfigFile): Record<string, ModelConfig> {
  const models: Record<string, ModelConfig> = {};
  for (const [name, model] of Object.entries(file.ai_models ?? {})) {
    models[name] = {
      ...(model.provider !== undefined ? { provider: model.provider } : {}),
      ...(model.rate_limit !== undefined ? { rateLimit: model.rate_limit } : {}),
      ...(model.tokens_per_minute !== undefined ? { tokensPerMinute: model.tokens_per_minute } : {}),
      ...(model.max_concurrent !== undefined ? { maxConcurrent: model.max_concurrent } : {}),
      fallbacks: model.fallbacks ?? [],
      ...(model.input_price !== undefined ? { inputPrice: model.input_price } : {}),
      ...(model.output_price !== undefined ? { outputPrice: model.output_price } : {}),
    };
  }
  return models;
}

/** Checks that span sections: tiers named by keys exist, providers named by models exist, keys are unique. */
function crossCheck(config: GatewayConfig, file: ConfigFile): string[] {
  const problems: string[] = [];
  const tierNames = Object.keys(config.tiers);
  const expectTier = `expected one of the tiers: ${tierNames.join(', ')}`;
  if (!config.tiers[config.rateLimit.defaultTier]) {
    problems.push(
      `config error: rate_limit.default_tier = ${JSON.stringify(config.rateLimit.defaultTier)}: ${expectTier}`,
    );
  }
  const seen = new Set<string>();
  (file.api_keys ?? []).forEach((entry, index) => {
    if (entry.tier !== undefined && !config.tiers[entry.tier]) {
      problems.push(`config error: api_keys[${index}].tier = ${JSON.stringify(entry.tier)}: ${expectTier}`);
    }
    if (seen.has(entry.key))
      problems.push(`config error: api_keys[${index}].key: the same key is listed twice`);
    seen.add(entry.key);
  });
  problems.push(...budgetChecks(config, file));
  const providerNames = Object.keys(config.providers);
  for (const [model, entry] of Object.entries(config.models)) {
    const at = /^[A-Za-z0-9_-]+$/.test(model) ? model : JSON.stringify(model);
    if (entry.provider !== undefined && !config.providers[entry.provider]) {
      problems.push(
        `config error: ai_models.${at}.provider = ${JSON.stringify(entry.provider)}: expected one of the providers: ${providerNames.join(', ')}`,
      );
    }
    for (const fallback of entry.fallbacks) {
      if (fallback === model) {
        problems.push(
          `config error: ai_models.${at}.fallbacks = ${JSON.stringify(entry.fallbacks)}: a model cannot fall back to itself`,
        );
      }
    }
  }
  return problems;
}

/**
 * With budgets on, every configured model (and fallback) needs a price, from its config or the
 * built-in table: an unpriced model would spend without being counted. A tenant's budget is one
 * number, so its keys must agree on it.
 */
function budgetChecks(config: GatewayConfig, file: ConfigFile): string[] {
  const problems: string[] = [];
  const budgetOf = new Map<string, { index: number; usd: number | undefined }>();
  (file.api_keys ?? []).forEach((entry, index) => {
    const first = budgetOf.get(entry.tenant);
    if (!first) budgetOf.set(entry.tenant, { index, usd: entry.budget_usd });
    else if (first.usd !== entry.budget_usd) {
      problems.push(
        `config error: api_keys[${index}].budget_usd = ${entry.budget_usd ?? '(unset)'}: tenant ${JSON.stringify(entry.tenant)} already has budget_usd = ${first.usd ?? '(unset)'} at api_keys[${first.index}]; expected the same budget on every key of a tenant`,
      );
    }
  });
  for (const [name, tier] of Object.entries(file.tiers ?? {})) {
    if (tier.budget_period !== undefined && tier.budget_usd === undefined) {
      problems.push(
        `config error: tiers.${name}.budget_period = ${JSON.stringify(tier.budget_period)}: expected tiers.${name}.budget_usd beside it`,
      );
    }
  }
  if (!config.budgets.enabled) return problems;
  const budgeted =
    Object.entries(file.tiers ?? {}).find(([, tier]) => tier.budget_usd !== undefined)?.[0] ?? undefined;
  const reason = budgeted ? `tiers.${budgeted}.budget_usd` : 'api_keys[].budget_usd';
  const models = new Set<string>();
  for (const [model, entry] of Object.entries(config.models)) {
    models.add(model);
    for (const fallback of entry.fallbacks) models.add(fallback);
  }
  for (const model of models) {
    const entry = config.models[model];
    const configured = entry?.inputPrice !== undefined || entry?.outputPrice !== undefined;
    if (configured || priceOf(model)) continue;
    const at = /^[A-Za-z0-9_-]+$/.test(model) ? model : JSON.stringify(model);
    problems.push(
      `config error: ai_models.${at}: no price is known for this model and budgets are on (${reason}): expected ai_models.${at}.input_price and output_price (USD per million tokens)`,
    );
  }
  return problems;
}

/**
 * Validate a parsed config object (file contents) with env overrides into the resolved, frozen
 * config. Throws a ConfigError listing every problem.
 */
export function resolveConfig(input: unknown, env: Env = process.env, source?: string): GatewayConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    fail(['config error: the config must be a TOML table'], source);
  }
  const { merged, sources } = applyEnv(input as Record<string, unknown>, env);
  const parsed = fileSchema.safeParse(merged);
  if (!parsed.success) fail(describeIssues(parsed.error.issues, merged, fileSchema, sources), source);
  const file = parsed.data;

  // "A real provider is configured": a [providers.*] table, or a provider key/URL in the environment.
  const realProvider =
    Object.keys((input as ConfigFile).providers ?? {}).length > 0 ||
    ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'OPENAI_BASE_URL'].some(
      (name) => envValue(env, name) !== undefined,
    );
  const simulatorSetting = file.simulator?.enabled ?? 'auto';
  const simulated = simulatorSetting === 'auto' ? !realProvider : simulatorSetting;
  const adminToken = envValue(env, 'ADMIN_TOKEN');

  const config: GatewayConfig = {
    server: {
      host: file.server?.host ?? '127.0.0.1',
      port: file.server?.port ?? 8787,
      maxBodyBytes: file.server?.max_body_bytes ?? 1024 * 1024,
      shutdownTimeoutMs: (file.server?.shutdown_timeout ?? 10) * 1000,
    },
    cache: {
      enabled: file.cache?.enabled ?? true,
      redisUrl: file.cache?.redis_url,
      redisCluster: file.cache?.redis_cluster,
      redisSentinel: file.cache?.redis_sentinel,
      // A hung Redis costs each request at most this once (later calls fail fast while a reply is
      // overdue), so it bounds what a frozen Redis adds to a request (DESIGN: ~100 ms at most).
      redisTimeoutMs: file.cache?.redis_timeout_ms ?? 50,
      defaultTtlSeconds: file.cache?.default_ttl ?? 3600,
      maxMemoryItems: file.cache?.max_memory_items ?? 10_000,
    },
    rateLimit: {
      multiplier: file.rate_limit?.multiplier ?? 1,
      defaultTier: file.rate_limit?.default_tier ?? 'free',
      instances: file.rate_limit?.instances ?? 1,
    },
    tiers: tiersOf(file),
    budgets: {
      enabled:
        Object.values(file.tiers ?? {}).some((tier) => tier.budget_usd !== undefined) ||
        (file.api_keys ?? []).some((entry) => entry.budget_usd !== undefined),
      alertAt: file.rate_limit?.budget_alert_at ?? 0.8,
    },
    apiKeys: (file.api_keys ?? []).map((entry) => ({
      key: new Secret(entry.key),
      tenant: entry.tenant,
      tier: entry.tier ?? file.rate_limit?.default_tier ?? 'free',
      ...(entry.budget_usd !== undefined ? { budgetUsd: entry.budget_usd } : {}),
    })),
    providers: providersOf(file, env, simulated),
    models: modelsOf(file),
    breaker: {
      failureThreshold: file.breaker?.failure_threshold ?? 5,
      halfOpenAfterSeconds: file.breaker?.half_open_after ?? 30,
      timeoutSeconds: file.breaker?.timeout ?? 60,
      maxRetries: file.breaker?.max_retries ?? 2,
      providerMinModels: file.breaker?.provider_min_models ?? 2,
    },
    admin: { token: adminToken === undefined ? undefined : new Secret(adminToken) },
    telemetry: {
      serviceName: file.telemetry?.service_name,
      prometheusPort: file.telemetry?.prometheus_port,
      prometheusHost: file.telemetry?.prometheus_host,
      otlpEndpoint: file.telemetry?.otlp_endpoint,
      propagate: file.telemetry?.propagate ?? true,
    },
    simulator: {
      enabled: simulated,
      latencyMs: file.simulator?.latency_ms ?? 250,
      jitterMs: file.simulator?.jitter_ms ?? 100,
      chunkDelayMs: file.simulator?.chunk_delay_ms ?? 15,
      port: file.simulator?.port ?? 0,
    },
    source,
  };
  const problems = crossCheck(config, file);
  const topologies = (['redis_url', 'redis_cluster', 'redis_sentinel'] as const)
    .filter((key) => file.cache?.[key] !== undefined)
    .map(
      (key) => `cache.${key}${sources.has(`cache.${key}`) ? ` (from ${sources.get(`cache.${key}`)})` : ''}`,
    );
  if (topologies.length > 1) {
    problems.push(
      `config error: ${topologies.join(' and ')} are both set: expected exactly one of cache.redis_url, cache.redis_cluster, cache.redis_sentinel`,
    );
  }
  if (problems.length > 0) fail(problems, source);
  return deepFreeze(config);
}

/** Parse TOML text into the resolved config; TOML syntax errors name the line. */
export function parseConfig(text: string, env: Env = process.env, source?: string): GatewayConfig {
  let input: unknown;
  try {
    input = parseToml(text);
  } catch (error) {
    const message = (error as Error).message.split('\n')[0] ?? String(error);
    const line = (error as { line?: number }).line;
    fail(
      [`config error: ${source ?? 'config'}${line ? `:${line}` : ''} is not valid TOML: ${message}`],
      source,
    );
  }
  return resolveConfig(input, env, source);
}

/**
 * Load the gateway config: the TOML file from `path` (or `ALCHEMIST_CONFIG`), env overrides, defaults.
 * Without any file, the embedded defaults apply (127.0.0.1:8787, memory cache, local limits, the
 * simulated provider until a real one is configured).
 *
 * @example
 * const config = loadConfig({ path: 'alchemist.toml' });
 * const gateway = await createGateway(config);
 */
export function loadConfig(options: LoadConfigOptions = {}): GatewayConfig {
  const env = options.env ?? process.env;
  if (options.text !== undefined) return parseConfig(options.text, env);
  const path = options.path ?? envValue(env, 'ALCHEMIST_CONFIG');
  if (path === undefined) return resolveConfig({}, env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    fail([
      `config error: cannot read config file ${path}: ${code === 'ENOENT' ? 'no such file' : String(error)}`,
    ]);
  }
  return parseConfig(text, env, path);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secret) && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
