import type { Context } from 'hono';
import { tokenizerLoaded } from '../ratelimit/index.ts';
import type { GatewayPolicies } from './policies.ts';

/** Lifecycle of the gateway process, as `/readyz` reports it. */
export type GatewayPhase = 'starting' | 'ready' | 'draining' | 'stopped';

export interface HealthSources {
  phase(): GatewayPhase;
  readonly policies: GatewayPolicies;
  readonly simulatorUrl: string | undefined;
  readonly cacheEnabled: boolean;
  /** Budgets are configured: `/readyz` reports their mode. @default false */
  readonly budgetsEnabled?: boolean;
}

export const SIMULATED_PROVIDER_WARNING =
  'SIMULATED PROVIDER: no real provider is configured, so the built-in simulator answers every model with ' +
  'deterministic fake replies. Set OPENAI_API_KEY / ANTHROPIC_API_KEY or add [providers.<name>] to the config.';

/**
 * `/readyz` body: store, limiter and breaker state; `ready: false` (503) only while starting (which
 * includes loading the tokenizer when token limits are on: the first requests would wait for it) or
 * draining, with the `reason`.
 */
export function readiness(sources: HealthSources) {
  const phase = sources.phase();
  const { policies } = sources;
  const tokenizer = !policies.limitsTokens ? 'not_needed' : tokenizerLoaded() ? 'loaded' : 'loading';
  const limiter = policies.tierLimit.state();
  const modelLimiter = policies.modelLimit.limiterState();
  const budgets = sources.budgetsEnabled ? policies.budget.state() : undefined;
  const breakers = policies.resilience.state().breakers;
  const open = breakers.filter((b) => b.state === 'open').map((b) => b.name);
  const halfOpen = breakers.filter((b) => b.state === 'half_open').map((b) => b.name);
  const redis = policies.redis ? (policies.redis.available ? 'up' : 'down') : 'disabled';
  // Why it is down (`oom`, `auth`, `timeout`, ...): a closed set of kinds, never an error's text.
  const storeReason = redis === 'down' ? policies.redis?.failure : undefined;
  const degraded =
    redis === 'down' ||
    limiter.degraded ||
    modelLimiter.degraded ||
    budgets?.degraded === true ||
    open.length > 0;
  const ready = phase === 'ready' && tokenizer !== 'loading';
  const status = ready ? (degraded ? 'degraded' : 'ready') : phase === 'ready' ? 'starting' : phase;
  const reason = tokenizer === 'loading' ? 'loading the tokenizer (token limits are on)' : phase;
  return {
    ready,
    body: {
      status,
      ...(ready ? {} : { reason }),
      store: storeReason ? { redis, reason: storeReason } : { redis },
      cache: { enabled: sources.cacheEnabled, layers: policies.redis ? ['memory', 'redis'] : ['memory'] },
      limiter: { mode: limiter.mode, degraded: limiter.degraded },
      model_limiter: { mode: modelLimiter.mode, degraded: modelLimiter.degraded },
      ...(budgets ? { budgets: { mode: budgets.mode, degraded: budgets.degraded } } : {}),
      tokenizer,
      breakers: { total: breakers.length, open, half_open: halfOpen },
      provider: sources.simulatorUrl
        ? { simulated: true, url: sources.simulatorUrl, warning: SIMULATED_PROVIDER_WARNING }
        : { simulated: false },
    },
  };
}

export function readyzHandler(sources: HealthSources) {
  return function readyz(c: Context) {
    const { ready, body } = readiness(sources);
    return c.json(body, ready ? 200 : 503);
  };
}
