import { z } from 'zod';

/**
 * The TOML file's schema (snake_case, as written by users). Every object is strict: an unknown key is
 * an error with a "did you mean" hint rather than a silently ignored typo.
 */
const POSITIVE_INT = 'expected a positive integer';
const NON_NEGATIVE_INT = 'expected an integer >= 0';
const POSITIVE_NUMBER = 'expected a positive number';
const NON_NEGATIVE_NUMBER = 'expected a number >= 0';

const positiveInt = z
  .number({ error: POSITIVE_INT })
  .int({ error: POSITIVE_INT })
  .positive({ error: POSITIVE_INT });
const nonNegativeInt = z
  .number({ error: NON_NEGATIVE_INT })
  .int({ error: NON_NEGATIVE_INT })
  .nonnegative({ error: NON_NEGATIVE_INT });
const positiveNumber = z
  .number({ error: POSITIVE_NUMBER })
  .positive({ error: POSITIVE_NUMBER })
  .refine(Number.isFinite, { error: POSITIVE_NUMBER });
const nonNegativeNumber = z
  .number({ error: NON_NEGATIVE_NUMBER })
  .nonnegative({ error: NON_NEGATIVE_NUMBER })
  .refine(Number.isFinite, { error: NON_NEGATIVE_NUMBER });
const port = z
  .number({ error: 'expected a port number 0-65535' })
  .int({ error: 'expected a port number 0-65535' })
  .min(0, { error: 'expected a port number 0-65535' })
  .max(65535, { error: 'expected a port number 0-65535' });
const name = z
  .string({ error: 'expected a non-empty string' })
  .trim()
  .min(1, { error: 'expected a non-empty string' });
const httpUrl = z.string({ error: 'expected an http(s) URL' }).refine(
  (value) => {
    try {
      const { protocol } = new URL(value);
      return protocol === 'http:' || protocol === 'https:';
    } catch {
      return false;
    }
  },
  { error: 'expected an http(s) URL' },
);
const redisUrl = z.string({ error: 'expected a redis:// or rediss:// URL' }).refine(
  (value) => {
    try {
      const { protocol } = new URL(value);
      return protocol === 'redis:' || protocol === 'rediss:';
    } catch {
      return false;
    }
  },
  { error: 'expected a redis:// or rediss:// URL' },
);
const envName = z
  .string({ error: 'expected an environment variable name' })
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' });

export const serverSchema = z.strictObject({
  /** Interface to bind. */
  host: name.optional(),
  port: port.optional(),
  /** Largest request body accepted, in bytes (413 above). */
  max_body_bytes: positiveInt.optional(),
  /** Longest graceful shutdown waits for in-flight requests, in seconds. */
  shutdown_timeout: nonNegativeNumber.optional(),
});

export const cacheSchema = z.strictObject({
  enabled: z.boolean({ error: 'expected true or false' }).optional(),
  redis_url: redisUrl.optional(),
  /** Redis Cluster seed nodes (the rest are discovered). */
  redis_cluster: z.array(redisUrl, { error: 'expected a list of redis:// URLs' }).min(1).optional(),
  /** A Sentinel set: the monitored master's name and the sentinels' URLs. */
  redis_sentinel: z
    .strictObject({
      name: z.string({ error: 'expected the master name the sentinels monitor' }).min(1),
      nodes: z.array(redisUrl, { error: 'expected a list of redis:// sentinel URLs' }).min(1),
    })
    .optional(),
  /** Longest one Redis round trip (cache or limiter script) may take before the local fallback answers, ms. */
  redis_timeout_ms: positiveInt.optional(),
  /** Seconds an answer stays fresh. */
  default_ttl: positiveInt.optional(),
  max_memory_items: positiveInt.optional(),
});

export const rateLimitSchema = z.strictObject({
  multiplier: positiveNumber.optional(),
  default_tier: name.optional(),
  /** Gateway processes sharing the providers' limits: the outbound per-model limits (always per process)
   * and the local fallback of tier limits while Redis is down are divided by it. */
  instances: positiveInt.optional(),
  /** Share of a budget after which answers carry `x-alchemist-budget-remaining` (0-1). */
  budget_alert_at: nonNegativeNumber.max(1, { error: 'expected a number between 0 and 1' }).optional(),
});

export const tierSchema = z.strictObject({
  requests_per_minute: positiveInt.optional(),
  tokens_per_minute: positiveInt.optional(),
  max_concurrent: positiveInt.optional(),
  /** Spend allowed per tenant of this tier per period, USD. */
  budget_usd: nonNegativeNumber.optional(),
  /** UTC calendar period of the budget. */
  budget_period: z.enum(['day', 'month'], { error: 'expected "day" or "month"' }).optional(),
});

export const apiKeySchema = z.strictObject({
  key: z
    .string({ error: 'expected the API key string' })
    .min(8, { error: 'expected a key of 8+ characters' }),
  tenant: name,
  tier: name.optional(),
  /** This key's tenant's budget, replacing its tier's (same period). */
  budget_usd: nonNegativeNumber.optional(),
});

export const providerSchema = z.strictObject({
  type: z.enum(['openai', 'anthropic'], { error: 'expected "openai" or "anthropic"' }),
  base_url: httpUrl.optional(),
  api_key_env: envName.optional(),
  /** Keep-alive connections per provider origin. */
  connections: positiveInt.optional(),
});

export const modelSchema = z.strictObject({
  provider: name.optional(),
  /** Requests per minute to the provider for this model (outbound). */
  rate_limit: positiveInt.optional(),
  tokens_per_minute: positiveInt.optional(),
  max_concurrent: positiveInt.optional(),
  /** Models to try, in order, when this one fails or its breaker is open. */
  fallbacks: z.array(name, { error: 'expected a list of model names' }).optional(),
  /** USD per million input tokens (cost estimates). */
  input_price: nonNegativeNumber.optional(),
  /** USD per million output tokens. */
  output_price: nonNegativeNumber.optional(),
});

export const breakerSchema = z.strictObject({
  failure_threshold: positiveInt.optional(),
  /** Seconds an open breaker waits before a half-open probe. */
  half_open_after: positiveNumber.optional(),
  /** Seconds an upstream attempt may take. */
  timeout: positiveNumber.optional(),
  max_retries: nonNegativeInt.optional(),
  /** Distinct failing models (all, for a provider with fewer) before a provider-wide breaker may open. */
  provider_min_models: positiveInt.optional(),
});

export const telemetrySchema = z.strictObject({
  service_name: name.optional(),
  /** Prometheus endpoint port; `false` disables it. */
  prometheus_port: z
    .union([port, z.literal(false)], { error: 'expected a port number 0-65535 or false' })
    .optional(),
  prometheus_host: name.optional(),
  otlp_endpoint: httpUrl.optional(),
  /** Send W3C `traceparent`/`tracestate` to providers. */
  propagate: z.boolean({ error: 'expected true or false' }).optional(),
});

export const simulatorSchema = z.strictObject({
  /** `auto`: on when no real provider is configured. */
  enabled: z.union([z.boolean(), z.literal('auto')], { error: 'expected true, false or "auto"' }).optional(),
  latency_ms: nonNegativeNumber.optional(),
  jitter_ms: nonNegativeNumber.optional(),
  chunk_delay_ms: nonNegativeNumber.optional(),
  /** Port of the embedded simulator on 127.0.0.1; 0 picks a free one. */
  port: port.optional(),
});

export const fileSchema = z.strictObject({
  server: serverSchema.optional(),
  cache: cacheSchema.optional(),
  rate_limit: rateLimitSchema.optional(),
  tiers: z.record(z.string(), tierSchema).optional(),
  api_keys: z.array(apiKeySchema, { error: 'expected [[api_keys]] tables' }).optional(),
  providers: z.record(z.string(), providerSchema).optional(),
  ai_models: z.record(z.string(), modelSchema).optional(),
  breaker: breakerSchema.optional(),
  telemetry: telemetrySchema.optional(),
  simulator: simulatorSchema.optional(),
});

export type ConfigFile = z.infer<typeof fileSchema>;
