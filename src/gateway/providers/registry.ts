import type { GatewayConfig, ProviderConfig } from '../config/types.ts';
import { createAnthropicProvider } from './anthropic.ts';
import { createOpenAiProvider } from './openai.ts';
import type { Provider } from './types.ts';

/** The configured providers, and how a model finds its provider. */
export interface ProviderRegistry {
  readonly providers: ReadonlyMap<string, Provider>;
  /** Provider name for a model: `[ai_models.<m>] provider`, else by family (claude-* → an Anthropic provider), else `openai`. */
  resolve(model: string): string;
  /** Providers that serve models not listed in `[ai_models]`: the default one, and the Anthropic provider for claude-* names. */
  readonly catchAll: readonly string[];
  get(name: string): Provider | undefined;
  close(): Promise<void>;
}

function create(
  config: ProviderConfig,
  timeoutMs: number,
  simulatorUrl: string | undefined,
  propagate: boolean,
): Provider {
  if (config.type === 'anthropic')
    return createAnthropicProvider(config, timeoutMs, simulatorUrl ?? config.baseUrl, propagate);
  const baseUrl = simulatorUrl ? `${simulatorUrl}/v1` : config.baseUrl;
  return createOpenAiProvider(config, timeoutMs, baseUrl, propagate);
}

/**
 * One provider (and one keep-alive pool) per configured provider. With the embedded simulator, every
 * provider points at it, speaking its own API (OpenAI or Anthropic Messages).
 */
export function createProviderRegistry(config: GatewayConfig, simulatorUrl?: string): ProviderRegistry {
  // The pool's own timeouts are a backstop a little behind the breaker's per-attempt timeout.
  const timeoutMs = Math.ceil(config.breaker.timeoutSeconds * 1000) + 5_000;
  const providers = new Map<string, Provider>();
  for (const provider of Object.values(config.providers)) {
    const simulated = provider.simulated ? simulatorUrl : undefined;
    providers.set(provider.name, create(provider, timeoutMs, simulated, config.telemetry.propagate));
  }
  const anthropic = [...providers.values()].find((p) => p.type === 'anthropic')?.name;
  const openai = providers.has('openai')
    ? 'openai'
    : [...providers.values()].find((p) => p.type === 'openai')?.name;
  const fallback = openai ?? [...providers.keys()][0] ?? 'openai';
  return {
    providers,
    catchAll: [...new Set([fallback, ...(anthropic ? [anthropic] : [])])],
    resolve(model) {
      const configured = config.models[model]?.provider;
      if (configured) return configured;
      if (anthropic && /^claude/i.test(model)) return anthropic;
      return fallback;
    },
    get: (name) => providers.get(name),
    async close() {
      await Promise.allSettled([...providers.values()].map((p) => p.close()));
    },
  };
}
