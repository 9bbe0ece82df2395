/** A client key of the test config: its value, tenant and tier. */
export interface TestKey {
  readonly key: string;
  readonly tenant: string;
  readonly tier: string;
}

export interface TestConfigOptions {
  /** Simulator base URL (without `/v1`). */
  simulatorUrl: string;
  /** Env variable holding the provider key the gateway sends upstream. @default 'SIM_PROVIDER_KEY' */
  providerKeyEnv?: string;
  /** `[tiers.<name>]` tables. @default { standard: { requests_per_minute: 100000 } } */
  tiers?: Record<
    string,
    { requests_per_minute?: number; tokens_per_minute?: number; max_concurrent?: number }
  >;
  /** `[[api_keys]]`; none means tenants are hashes of bearer keys. @default [] */
  keys?: readonly TestKey[];
  /** Extra `[rate_limit]` fields (multiplier, instances). @default {} */
  rateLimit?: Record<string, unknown>;
  /** Default tier for callers without a configured key. @default first tier */
  defaultTier?: string;
  /** `[breaker]`. @default threshold 3, half-open after 1 s, timeout 2 s, 1 retry */
  breaker?: { failure_threshold?: number; half_open_after?: number; timeout?: number; max_retries?: number };
  /** Models routed to the simulator (`[ai_models.<m>] provider = "sim"`). @default gpt-4o-mini, gpt-4o */
  models?: readonly string[];
  /** More OpenAI-compatible providers on the same simulator (separate breakers per provider). @default [] */
  extraProviders?: readonly string[];
  /** Extra `[ai_models.<m>]` fields per model (provider, rate_limit, fallbacks, ...). */
  modelOptions?: Record<string, Record<string, unknown>>;
  /** `[cache]` fields besides redis_url (which comes from REDIS_URL). @default { default_ttl: 600 } */
  cache?: Record<string, unknown>;
  /** `[server]` fields besides port/host. @default {} */
  server?: Record<string, unknown>;
}

function toml(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(toml).join(', ')}]`;
  return String(value);
}

function table(header: string, fields: Record<string, unknown> | undefined): string {
  const lines = Object.entries(fields ?? {})
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key} = ${toml(value)}`);
  return `${header}\n${lines.join('\n')}\n`;
}

/**
 * TOML for a gateway in front of the simulator: one OpenAI-compatible provider `sim` whose key comes
 * from an env variable, the given tiers, keys, breaker settings and models.
 */
export function gatewayConfig(options: TestConfigOptions): string {
  const tiers = options.tiers ?? { standard: { requests_per_minute: 100_000 } };
  const parts = [
    table('[server]', { host: '127.0.0.1', ...options.server }),
    table('[cache]', { default_ttl: 600, ...options.cache }),
    table('[rate_limit]', {
      default_tier: options.defaultTier ?? Object.keys(tiers)[0],
      ...options.rateLimit,
    }),
    ...Object.entries(tiers).map(([name, tier]) => table(`[tiers.${name}]`, tier)),
    ...(options.keys ?? []).map((key) => table('[[api_keys]]', { ...key })),
    table('[providers.sim]', {
      type: 'openai',
      base_url: `${options.simulatorUrl}/v1`,
      api_key_env: options.providerKeyEnv ?? 'SIM_PROVIDER_KEY',
    }),
    ...(options.extraProviders ?? []).map((name) =>
      table(`[providers.${name}]`, {
        type: 'openai',
        base_url: `${options.simulatorUrl}/v1`,
        api_key_env: options.providerKeyEnv ?? 'SIM_PROVIDER_KEY',
      }),
    ),
    ...(options.models ?? ['gpt-4o-mini', 'gpt-4o']).map((model) =>
      table(`[ai_models."${model}"]`, { provider: 'sim', ...options.modelOptions?.[model] }),
    ),
    table('[breaker]', {
      failure_threshold: 3,
      half_open_after: 1,
      timeout: 2,
      max_retries: 1,
      ...options.breaker,
    }),
  ];
  return parts.join('\n');
}
