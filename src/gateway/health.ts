import type { Context } from 'hono';
import type { GatewayPolicies } from './policies.ts';

/** Lifecycle of the gateway process, as `/readyz` reports it. */
export type GatewayPhase = 'starting' | 'ready' | 'draining' | 'stopped';

export interface HealthSources {
  phase(): GatewayPhase;
  readonly policies: GatewayPolicies;
  readonly simulatorUrl: string | undefined;
  readonly cacheEnabled: boolean;
}

export const SIMULATED_PROVIDER_WARNING =
  'SIMULATED PROVIDER: no real provider is configured, so the built-in simulator answers every model with ' +
  'deterministic fake replies. Set OPENAI_API_KEY / ANTHROPIC_API_KEY or add [providers.<name>] to the config.';

/** `/readyz` body: store, limiter and breaker state; `ready: false` (503) only while starting or draining. */
export function readiness(sources: HealthSources) {
  const phase = sources.phase();
  const { policies } = sources;
  const limiter = policies.tierLimit.state();
  const breakers = policies.resilience.state().breakers;
  const open = breakers.filter((b) => b.state === 'open').map((b) => b.name);
  const halfOpen = breakers.filter((b) => b.state === 'half_open').map((b) => b.name);
  const redis = policies.redis ? (policies.redis.available ? 'up' : 'down') : 'disabled';
  // Why it is down (`oom`, `auth`, `timeout`, ...): a closed set of kinds, never an error's text.
  const reason = redis === 'down' ? policies.redis?.failure : undefined;
  const degraded = redis === 'down' || limiter.degraded || open.length > 0;
  const ready = phase === 'ready';
  return {
    ready,
    body: {
      status: ready ? (degraded ? 'degraded' : 'ready') : phase,
      store: reason ? { redis, reason } : { redis },
      cache: { enabled: sources.cacheEnabled, layers: policies.redis ? ['memory', 'redis'] : ['memory'] },
      limiter: { mode: limiter.mode, degraded: limiter.degraded },
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
