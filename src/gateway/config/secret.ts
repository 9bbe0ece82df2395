import { inspect } from 'node:util';
import { urlSecrets } from '../../core/redact.ts';
import type { GatewayConfig } from './types.ts';

/**
 * A secret value (API key, admin token) that prints as `[redacted]` in logs, JSON and `util.inspect`,
 * so a config object can be logged or serialised without leaking it. `reveal()` is the only way out.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}

/**
 * Every secret value a config holds, for `registerSecrets()`: provider keys, client keys, the admin
 * token and the Redis URL's password.
 */
export function secretValues(config: GatewayConfig): string[] {
  return [
    ...Object.values(config.providers).map((provider) => provider.apiKey?.reveal()),
    ...config.apiKeys.map((entry) => entry.key.reveal()),
    config.admin.token?.reveal(),
    ...urlSecrets(config.cache.redisUrl),
    ...(config.cache.redisCluster ?? []).flatMap((url) => urlSecrets(url)),
    ...(config.cache.redisSentinel?.nodes ?? []).flatMap((url) => urlSecrets(url)),
  ].filter((value): value is string => value !== undefined);
}
