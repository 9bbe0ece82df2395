export type { Env } from './env.ts';
export { ENV_OVERRIDES } from './env.ts';
export { ConfigError, isConfigError } from './errors.ts';
export type { LoadConfigOptions } from './load.ts';
export { DEFAULT_TIERS, loadConfig, parseConfig, resolveConfig } from './load.ts';
export { Secret } from './secret.ts';
export type {
  ApiKeyConfig,
  GatewayConfig,
  ModelConfig,
  ProviderConfig,
  ProviderType,
  TierConfig,
} from './types.ts';
